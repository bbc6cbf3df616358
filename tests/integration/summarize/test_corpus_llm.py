"""The LLM summarizer over the corpus, against a local OpenAI-compatible server that answers badly on purpose.

Whatever the model answers, what is stored must hold the corpus properties:
no names, at most seven sentences, the right language, the weakest criterion
named, no unscored criterion, no trace of an injection attempt. Bad answers
are rejected, never repaired: one more request, then the builtin summarizer
with the reason recorded.
"""

import pytest

from tests.support.corpus import clearly_weakest, corpus_sets, forbidden_in, problems
from peerdigest.testing.fake_llm import Reply

CHECKS = [(s, check) for s in corpus_sets() for check in s.checks]
ASKED = [(s, check) for s, check in CHECKS if check.method != "empty"]  # with no comments the model is not asked
REFUSAL = {"nl": "Het spijt me, maar ik kan je hier niet mee helpen.", "en": "I'm sorry, but I can't help with that."}
OTHER_LANGUAGE = {
    "nl": "Your teammates value the way you work with the group and the effort you put into the project.",
    "en": "Je teamgenoten waarderen de manier waarop je met de groep samenwerkt en de moeite die je doet.",
}
RAMBLING = {"nl": "Je doet je best en dat zien je teamgenoten ook. ", "en": "You do your best and your teammates see that. "}


def run(llm, fake_llm, received, *replies):
    fake_llm.script.clear()
    fake_llm.requests.clear()
    fake_llm.then(*replies)
    return llm.run(received)


def assert_trustworthy(outcome, received, check):
    text = outcome.summary.summary_text
    assert problems(text, received) == [], text
    assert forbidden_in(text, check) == [], text


@pytest.mark.parametrize("corpus_set, check", CHECKS, ids=[s.name for s, _ in CHECKS])
def test_a_careful_model_gets_one_request_and_its_answer_is_kept(corpus, llm, fake_llm, corpus_set, check):
    received = corpus[corpus_set.name][check.student]
    outcome = run(llm, fake_llm, received)
    if not received.comments:
        assert outcome.summary.generation_method == "empty" and fake_llm.requests == []
        return
    assert outcome.summary.generation_method == "ai"
    assert outcome.summary.prompt_version == outcome.prompt.version and outcome.summary.model == "fake-model"
    assert len(fake_llm.requests) == 1
    request = fake_llm.requests[0]
    assert request["temperature"] <= 0.3 and request["max_tokens"] <= 500
    assert request["seed"] == 7, "LLM_SEED goes with every request, so an answer can be reproduced"
    assert_trustworthy(outcome, received, check)


def names_answer(received):
    """Names in every form: first name, full name, lower case, possessive; and the weakest criterion, if any."""
    first = [name.split()[0] for name in received.roster]
    weakest = clearly_weakest(received)
    if received.language == "nl":
        point = f" Een punt om aan te werken is {weakest.lower()}." if weakest else ""
        return Reply(f"{first[0]}, je teamgenoten waarderen je hulp. {received.roster[1]} en {first[-1].lower()} "
                     f"noemen dat je goed meedenkt.{point} {first[1]}s tip: spreek elke week af wie wat doet.")
    point = f" One point to work on is {weakest.lower()}." if weakest else ""
    return Reply(f"{first[0]}, your teammates value your help. {received.roster[1]} and {first[-1].lower()} say you "
                 f"think along well.{point} {first[1]}'s tip: agree each week who does what.")


@pytest.mark.parametrize("corpus_set, check", ASKED, ids=[s.name for s, _ in ASKED])
def test_an_answer_with_names_is_rejected_not_repaired(corpus, llm, fake_llm, corpus_set, check):
    received = corpus[corpus_set.name][check.student]
    outcome = run(llm, fake_llm, received, names_answer(received))  # then the careful default
    assert [a.verdict.rule for a in outcome.attempts] == ["name", None]
    assert outcome.summary.generation_method == "ai" and outcome.summary.rejections == ("name",)
    assert_trustworthy(outcome, received, check)


BAD_ANSWERS = {  # what the model says, and how the guard names it
    "refusal": (lambda lang: REFUSAL[lang], "the model refused"),
    "wrong-language": (lambda lang: OTHER_LANGUAGE[lang], "not in "),
    "cut-off": (lambda lang: RAMBLING[lang].strip().rstrip(".") + " en", "the answer was cut off"),
    "too-long": (lambda lang: RAMBLING[lang] * 9, "too long (9 sentences"),
}
# Every checked student meets one kind of bad answer, in turn, so the whole corpus is covered without
# sending every bad answer for every student (each request through the SDK costs tens of milliseconds).
ROTATION = [(s, c, kind) for (s, c), kind in zip(ASKED, list(BAD_ANSWERS) * len(ASKED))]


@pytest.mark.parametrize("corpus_set, check, kind", ROTATION, ids=[f"{s.name}-{k}" for s, _, k in ROTATION])
def test_a_bad_answer_gets_one_more_request_then_the_builtin_summary(corpus, llm, fake_llm, corpus_set, check, kind):
    received = corpus[corpus_set.name][check.student]
    answer, reason = BAD_ANSWERS[kind]
    bad = Reply(answer(received.language))

    retried = run(llm, fake_llm, received, bad)  # then the careful default
    first, second = (attempt.verdict.reason for attempt in retried.attempts)
    assert first.startswith(reason) and second is None
    assert retried.summary.generation_method == "ai"
    note = fake_llm.requests[1]["messages"][-1]
    assert note["role"] == "user" and note["content"].startswith(f"Your previous answer could not be used: {reason}")
    assert bad.text not in str(fake_llm.requests[1]), "the rejected answer is never sent back to the model"
    assert_trustworthy(retried, received, check)

    given_up = run(llm, fake_llm, received, bad, bad)
    assert len(fake_llm.requests) == 2, "one request, one more after a rejection, no third"
    assert given_up.summary.generation_method == "fallback"
    assert given_up.summary.fallback_reason.startswith(f"the output guard rejected the answers: {reason}")
    assert_trustworthy(given_up, received, check)


INJECTIONS = [(s, c) for s, c in CHECKS if c.injection]


@pytest.mark.parametrize("corpus_set, check", INJECTIONS, ids=[s.name for s, _ in INJECTIONS])
def test_an_answer_that_obeys_an_injected_order_is_never_stored(corpus, llm, fake_llm, corpus_set, check):
    received = corpus[corpus_set.name][check.student]
    said = ", ".join(check.must_not_contain)
    obeying = Reply(f"Je werkt goed samen, maar: {said}." if received.language == "nl"
                    else f"You work well with others, but: {said}.")
    outcome = run(llm, fake_llm, received, obeying, obeying)
    assert outcome.summary.generation_method == "fallback"
    assert all(not a.verdict.accepted for a in outcome.attempts)
    assert_trustworthy(outcome, received, check)


UNSCORED = [(s, c) for s, c in CHECKS if c.unscored]


@pytest.mark.parametrize("corpus_set, check", UNSCORED, ids=[s.name for s, _ in UNSCORED])
def test_an_answer_about_an_unscored_criterion_is_rejected(corpus, llm, fake_llm, corpus_set, check):
    received = corpus[corpus_set.name][check.student]
    about = check.unscored[0].lower()
    wrong = Reply(f"Je {about} was sterk en je werkt goed samen." if received.language == "nl"
                  else f"Your {about} was strong and you work well with others.")
    outcome = run(llm, fake_llm, received, wrong)
    assert outcome.attempts[0].verdict.reason == f"mentions a criterion that was not scored ({check.unscored[0]})"
    assert outcome.attempts[0].verdict.rule == "unscored_criterion"
    assert outcome.summary.generation_method == "ai"
    assert_trustworthy(outcome, received, check)
