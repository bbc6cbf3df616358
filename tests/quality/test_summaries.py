"""Both summarizers over the quality corpus (tests/data/quality_corpus), and two scripted models behind a fake server.

Every stored summary, whoever wrote it, must hold the properties a teacher
relies on; the hostile model must never get an answer through; the decent
model must rarely be turned away (its rate is also reported by `make bench`).
The checks here are written independently of the anonymizer and the guard:
they use the corpus's own list of names and nicknames and plain word matching.
"""

from __future__ import annotations

import re

import pytest

from peerdigest.summarize.injection import screen
from peerdigest.summarize.language import detect, sentences, words
from peerdigest.summarize.prompt import build
from peerdigest.testing import quality_run
from peerdigest.testing.quality_corpus import name_forms
from peerdigest.testing.scripted_models import NATURAL, Hostile

# Names that are ordinary words too: in a summary they only count where written as a name (capitalized).
NAME_WORDS = {"joy", "iris", "mees", "sky", "roos", "noor", "bos", "vos", "hope", "grace", "ruby", "mark", "will", "max",
              "fleur", "wood", "fox", "stone", "wit", "smit", "dan", "ben", "jon", "tom", "kim", "sam", "lot"}
CONTACT = re.compile(r"[\w.+-]+@[\w-]+\.\w+|https?://|www\.|\b\d{2,4}[ -]?\d{6,8}\b")


@pytest.fixture(scope="module")
def results():
    return quality_run.run()


def mentions(text: str, phrase: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(phrase.lower())}(?!\w)", text.lower()) is not None


def leaked_names(text: str, result) -> list[str]:
    found = []
    for form in name_forms(result.student.members):
        if form.lower() in NAME_WORDS:  # capitalized, not opening a sentence
            hit = any(
                (before := text[: m.start()].rstrip()) and before[-1] not in ".!?\u201c\""
                for m in re.finditer(rf"\b{re.escape(form)}\b", text)
            )
        else:
            hit = mentions(text, form)
        if hit:
            found.append(form)
    return found


def problems(text: str, result, *, named_as) -> list[str]:
    """What is wrong with `text` as a summary of this student's feedback; `named_as` lists the words that name a
    criterion (the builtin uses the name, a model its own words)."""
    student, found = result.student, []
    if leaked := leaked_names(text, result):
        found.append(f"names {leaked}")
    if CONTACT.search(text):
        found.append("contact details")
    if len(sentences(text)) > 7:
        found.append(f"{len(sentences(text))} sentences")
    if detect(text) != student.feedback.language:
        found.append(f"language {detect(text)}")
    if student.weakest and not any(mentions(text, w) for w in named_as(student.weakest, student)):
        found.append(f"leaves out the weakest criterion {student.weakest}")
    for criterion in student.unscored:
        if any(mentions(text, w) for w in named_as(criterion, student)):
            found.append(f"mentions unscored {criterion}")
    for payload in student.payloads:
        if mentions(text, payload):
            found.append(f"repeats the injection {payload!r}")
    return found


def by_name(criterion, student):
    return [criterion.lower()]


def naturally(criterion, student):
    return [criterion.lower(), *NATURAL[student.feedback.language].get(criterion, ())]


def test_the_corpus_is_big_enough_and_covers_what_it_is_for(results):
    students = [r.student for r in results]
    assert len(students) >= 60
    assert {s.feedback.language for s in students} == {"nl", "en"}
    profiles = {s.profile for s in students}
    assert {"sarcasm", "contradicting_words", "injection", "split", "little", "unscored", "no_comments"} <= profiles
    assert any(form.lower() in NAME_WORDS for s in students for form in name_forms(s.members))


def test_every_builtin_summary_holds_the_properties(results):
    wrong = {r.student.key: p for r in results if (p := problems(r.builtin.summary_text, r, named_as=by_name))}
    assert wrong == {}


def test_every_summary_the_decent_model_got_stored_holds_the_properties(results):
    wrong = {r.student.key: p for r in results if (p := problems(r.decent.summary.summary_text, r, named_as=naturally))}
    assert wrong == {}


def test_what_the_hostile_model_answers_is_never_stored(results):
    asked = [r for r in results if r.hostile.attempts]
    assert asked, "the hostile model was asked"
    for result in asked:
        assert all(quality_run.answers(result.hostile)), (result.student.key, result.hostile_kinds)
        assert result.hostile.summary.generation_method == "fallback"
        assert problems(result.hostile.summary.summary_text, result, named_as=by_name) == []
    tried = {kind for r in asked for kind in r.hostile_kinds}
    assert tried == {*Hostile.MISBEHAVIOURS, "echo_note"}, "every misbehaviour was tried"


def test_the_decent_model_is_rarely_turned_away(results):
    measures = quality_run.measure(results)
    assert measures.decent_answers >= 50
    assert measures.false_rejection_rate < quality_run.FALSE_REJECTION_LIMIT


def test_no_sentence_is_boilerplate_shared_by_more_than_a_fifth_of_the_summaries(results):
    measures = quality_run.measure(results)
    assert measures.builtin_boilerplate[1] <= quality_run.BOILERPLATE_LIMIT, measures.builtin_boilerplate
    assert measures.decent_boilerplate[1] <= quality_run.BOILERPLATE_LIMIT, measures.decent_boilerplate


def test_sarcasm_and_words_that_contradict_their_score_are_never_quoted(results):
    trapped = [r for r in results if r.student.trap]
    assert len(trapped) >= 8
    for result in trapped:
        trap = words(result.student.trap)
        runs = {tuple(trap[i : i + 4]) for i in range(len(trap) - 3)}
        said = words(result.builtin.summary_text)
        assert not runs & {tuple(said[i : i + 4]) for i in range(len(said) - 3)}, (result.student.key, result.builtin.summary_text)


def test_no_name_of_the_corpus_reaches_an_llm_prompt(results):
    leaks = {}
    for r in results:
        prompt = build(screen(r.student.feedback).feedback)
        if found := leaked_names(" ".join(message["content"] for message in prompt.messages), r):
            leaks[r.student.key] = found
    assert leaks == {}
