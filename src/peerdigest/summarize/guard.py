"""The output guard: every LLM answer is checked here before anyone reads it.

The guard never repairs an answer: an answer with a name in it, an address,
an invented criterion or an obeyed injection is rejected, with a reason that
says exactly what was wrong (in our words, never the answer's and never a
name), and the caller asks once more with that reason, then falls back to
the builtin summarizer. Each rejection names the rule that fired (`Verdict.rule`),
so the job and the metrics can say which rules models break.

It is also careful not to reject good answers: an injection is judged on a run
of consecutive words (or two words only the injection used), never on one
shared ordinary word, and the weakest criterion counts as named when the
answer uses its name, a stem of it, or a synonym (see `criteria`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from peerdigest.domain.flags import flag
from peerdigest.domain.names import mentions_a_name
from peerdigest.domain.received import CriterionScore, ReceivedFeedback
from peerdigest.summarize import criteria
from peerdigest.summarize.injection import Screened, gives_orders
from peerdigest.summarize.language import FUNCTION_WORDS, LANGUAGE_NAMES, detect, sentences, words
from peerdigest.summarize.prompt import MAX_SENTENCES, RETRY_NOTE, Prompt

MAX_CHARACTERS = 1500  # seven long sentences; more is a runaway answer even if it has few full stops
WEAKEST_GAP = 0.75  # an average this far below every other one is a weakness a summary must not hide


class Rule:
    """Why an answer was rejected: the names recorded in the job and counted in the metrics."""

    EMPTY = "empty"
    CUT_OFF = "cut_off"
    REFUSAL = "refusal"
    NAME = "name"
    CONTACT = "contact"
    TOO_LONG = "too_long"
    LANGUAGE = "language"
    NOT_TO_STUDENT = "not_to_student"
    ORDERS = "orders"
    ROLE_PLAY = "role_play"
    ECHO_NOTE = "echo_note"
    ECHO_RULES = "echo_rules"
    META = "meta"
    INJECTION = "injection"
    UNSCORED = "unscored_criterion"
    NUMBER = "number"
    WEAKEST = "weakest_missing"
    NO_REFERENCE = "no_reference"
    SELF_VIEW = "self_view"
    FLAGGED = "flagged"
    SIGN_OFF = "sign_off"
    INVENTED = "invented_criterion"
    PRAISES_WEAKEST = "praises_weakest"


# The fixed wording of every reason: a model that repeats one is echoing our note, not summarizing.
REASONS = {
    Rule.EMPTY: "empty answer",
    Rule.CUT_OFF: "the answer was cut off",
    Rule.REFUSAL: "the model refused",
    Rule.NAME: "uses a teammate's name or nickname (call them only teammates)",
    Rule.CONTACT: "contains an e-mail address, phone number or web address",
    Rule.TOO_LONG: "too long ({count} sentences, {chars} characters; at most {limit} sentences)",
    Rule.LANGUAGE: "not in {language} ({seen})",
    Rule.NOT_TO_STUDENT: "not written to the student (no second person)",
    Rule.ORDERS: "gives instructions instead of summarizing",
    Rule.ROLE_PLAY: "plays a role or speaks as itself instead of summarizing",
    Rule.ECHO_NOTE: "repeats the note about the previous answer",
    Rule.ECHO_RULES: "repeats the instructions",
    Rule.META: "talks about its instructions, the data or the task instead of the student",
    Rule.INJECTION: "repeats a comment that tried to give orders",
    Rule.UNSCORED: "mentions a criterion that was not scored ({criterion})",
    Rule.NUMBER: "mentions a number that is not in the feedback ({number})",
    Rule.WEAKEST: "leaves out the clearly weakest criterion ({criterion})",
    Rule.NO_REFERENCE: "refers to no criterion and no comment",
    Rule.SELF_VIEW: "says something about the self-assessment that the scores do not support",
    Rule.FLAGGED: "repeats an insult, a threat or words about self-harm",
    Rule.SIGN_OFF: "signs off or talks about itself as an AI or assistant",
    Rule.INVENTED: "talks about {criterion}, which is not a criterion of this evaluation and no teammate mentioned",
    Rule.PRAISES_WEAKEST: "praises {criterion}, the criterion teammates scored lowest",
}

_REFUSAL = re.compile(
    r"\b(?:i'?m sorry|i am sorry|i can(?:no|')t|i am (?:not able|unable)|i'?m (?:not able|unable)|as an ai|"
    r"i won'?t|het spijt me|sorry,? (?:maar )?ik kan|ik kan (?:je )?(?:hier )?niet|als ai|"
    r"ik ben niet in staat)\b",
    re.I,
)
_ENDS_A_SENTENCE = re.compile(r"[.!?…][\"'”’)\]*]*\s*$")
_SECOND_PERSON = {"nl": frozenset("je jij jou jouw jezelf u uw".split()), "en": frozenset("you your yourself".split())}
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Web addresses with or without a scheme: "www.x.nl", "bit.ly/3abc", "tips.example.org", and any "name.xx/path".
_URL = re.compile(
    r"\b(?:https?://|www\.)\S+"
    r"|\b[\w-]+(?:\.[\w-]+)*\.(?:nl|com|org|net|io|eu|be|de|uk|fr|edu|info|ly|me|co|app|dev|ai|gg|tv|to|xyz|biz|"
    r"link|site|online|school|us|ca|au)\b(?:/\S*)?"
    r"|\b[a-z0-9-]{2,}\.[a-z]{2,6}/[\w/?=&%.-]+",
    re.I,
)
_PHONE = re.compile(r"(?<![\w.,])(?:\+|00)?\d(?:[\s-]?\d){7,}(?!\w)")
# A letter's closing or the model naming itself: "Best wishes, the AI.", "Groetjes, je AI-assistent".
_SIGN_OFF = re.compile(
    r"\b(?:best wishes|kind regards|best regards|warm regards|regards|sincerely|yours truly|cheers|"
    r"groetjes|groeten|met vriendelijke groet(?:en)?|hartelijke groet(?:en)?|liefs)\b\s*[,!.:]?\s*(?:$|[-–—]|\n|"
    r"(?:the|de|je|your|uw|jouw)?\s*(?:ai|assistant|assistent|bot|model|peerdigest))"
    r"|\b(?:the|de|an|een|je|your|jouw|this|deze|dit)\s+(?:ai|ai[- ](?:assistant|assistent|model)|chatbot|bot|"
    r"assistant|assistent|taalmodel|language model)\b|\bchatgpt\b|\bgpt-?\d",
    re.I,
)
# Praise and its opposite within one sentence: "strong" with "but" is a balanced remark, not praise.
_PRAISE = re.compile(
    r"\b(?:sterk\w*|uitstekend\w*|uitblink\w*|blink\w*(?: \w+)? uit|geweldig\w*|knap|compliment\w*|waarder\w*|"
    r"tevreden|top|strong\w*|excellent|great|outstanding|stands? out|shine\w*|impressive|appreciat\w*|praise\w*|"
    r"happy with|very good|heel goed|erg goed|zeer goed)\b",
    re.I,
)
_NOT_PRAISE = re.compile(
    r"\b(?:maar|minder|lager|laagst\w*|verbeter\w*|werken aan|werkpunt|zwak\w*|wisselend|niet|geen|nog|groei\w*|"
    r"but|less|lower|lowest|improv\w*|work on|weak\w*|not|no|however|although|yet|grow\w*|room|tip|probeer|try)\b",
    re.I,
)
_FIRST_PERSON = {"nl": frozenset("ik mij mijn me".split()), "en": frozenset("i i'm i've i'll me my myself".split())}
_ROLE_PLAY = re.compile(
    r"\b(?:arr+|ahoy|matey|ye scallywag|beep boop|as your (?:teacher|coach|mentor|friend)|"
    r"als (?:je|jouw) (?:docent|leraar|coach|mentor)|in character|roleplay|role-play|rollenspel)\b|^\s*\*[^*]+\*",
    re.I,
)
# What only the prompt and the task talk about; a summary that says these talks about its data or job.
_META = re.compile(
    r"feedback[_ ]data|\bjson\b|\bprompt\b|\binstruct(?:ion|ie)s?\b|system ?(?:message|bericht)|systeembericht|"
    r"language model|taalmodel|\bdataset\b|\bthe data\b|\bde data\b|\bde gegevens\b|\bthe (?:provided|given) "
    r"(?:comments|feedback|scores)\b|\bbased on the (?:data|scores given)\b|"
    r"\bop basis van de (?:gegevens|data)\b|\bhere(?:'s| is) (?:a|the|your) summary\b|"
    r"\bhier is (?:de|een|je) samenvatting\b|\b(?:this|the) summary\b|\bdeze samenvatting\b|\bthe student\b|"
    r"\bde leerling\b|\bdeze leerling\b|\bthe task\b",
    re.I,
)
_SCORE_TALK = re.compile(
    r"\b(?:scor\w*|gemiddeld\w*|average\w*|rated|rating|beoordee\w*|cijfer\w*)\b|\d\s*/\s*\d|"
    r"\bout of\b|\bvan de \d",
    re.I,
)
# A claim about how the student rates themself: a sentence with a self-reference and a comparison.
_SELF_REFERENCE = re.compile(
    r"\b(?:jezelf|je eigen (?:werk|inzet|beoordeling|inschatting|bijdrage|oordeel|cijfers?|scores?)|"
    r"zelfbeoordeling|zelfevaluatie|zelfinschatting|yourself|your own (?:work|ratings?|assessment|view|"
    r"contribution|scores?)|self-(?:ratings?|assessment|evaluation))\b",
    re.I,
)
_HIGHER = re.compile(r"\b(?:hoger|positiever|gunstiger|rooskleuriger|higher|more positive|more generous|"
                     r"more favourabl[ey])\b", re.I)
_LOWER = re.compile(r"\b(?:lager|strenger|kritischer|negatiever|lower|harsher|more critical|stricter)\b", re.I)
# The insights' labels are for teachers; a summary never uses their words (docs/INSIGHTS.md).
_LABEL_WORDS = re.compile(
    r"\b(?:over-?confident|under-?confident|manipulat\w*|manipul\w*|cliques?|kliek\w*|"
    r"(?:high|low)[- ]performer|overmoedig\w*)\b",
    re.I,
)
_HEADING = re.compile(r"(?:^|\n)\s*(?:[#*-]+\s*)?\**([A-Za-zÀ-ÿ][\wÀ-ÿ ]{2,30}?)\**\s*:(?!\S)", re.M)
_NUMBER = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)?")
_QUOTED = re.compile(r"[\"“„‘][^\"“”„‘’]*[\"”’]")
_ECHO_RUN = 4  # this many consecutive words from our note count as repeating it
_RULES_RUN = 5  # this many consecutive words from the rules count as reciting them
_INJECTION_RUN = 3  # this many consecutive words only an injection wrote count as repeating it
_COMMON = frozenset().union(*FUNCTION_WORDS.values())
# Words a summary uses whatever the comments said.
_SUMMARY_WORDS = frozenset(
    """
    score scores scoort scoorde gemiddeld gemiddelde average punt punten point points teamgenoot teamgenoten
    teammate teammates feedback opmerking opmerkingen comment comments project groep group team werk work noemen
    noemt mention mentions beter better goed good sterk strong sterkste strongest zwakste weakest laagste lowest
    hoogste highest tip tips verbeteren improve samenvatting summary criterium criteria criterion hele whole
    """.split()
)


@dataclass(frozen=True)
class Verdict:
    """An accepted answer (`text`) or why it was rejected (`reason`, and the `rule` that fired)."""

    text: str | None = None
    reason: str | None = None
    rule: str | None = None

    @property
    def accepted(self) -> bool:
        return self.reason is None


def _reject(rule: str, **details) -> Verdict:
    return Verdict(reason=REASONS[rule].format(**details), rule=rule)


def check(answer: str | None, *, screened: Screened, prompt: Prompt, finish_reason: str | None = None) -> Verdict:
    """The verdict on one answer; the order puts what must never be stored (names, addresses) first."""
    feedback = screened.feedback
    language = feedback.language
    text = (answer or "").strip()
    if not text:
        return _reject(Rule.EMPTY)
    if mentions_a_name(text, feedback.roster):
        return _reject(Rule.NAME)
    if _EMAIL.search(text) or _URL.search(text) or _PHONE.search(text):
        return _reject(Rule.CONTACT)
    if finish_reason == "length" or not _ENDS_A_SENTENCE.search(text):
        return _reject(Rule.CUT_OFF)
    if _REFUSAL.search(text):
        return _reject(Rule.REFUSAL)
    if flag(text, language) is not None:
        return _reject(Rule.FLAGGED)
    if _SIGN_OFF.search(text):
        return _reject(Rule.SIGN_OFF)
    tokens = words(text)
    if echo := _echoes(tokens, prompt):
        return echo
    count = len(sentences(text))
    if count > MAX_SENTENCES or len(text) > MAX_CHARACTERS:
        return _reject(Rule.TOO_LONG, count=count, chars=len(text), limit=MAX_SENTENCES)
    found = detect(text)
    if found != language:
        seen = f"looks like {LANGUAGE_NAMES[found]}" if found else "the language is unclear"
        return _reject(Rule.LANGUAGE, language=LANGUAGE_NAMES.get(language, language), seen=seen)
    if not _SECOND_PERSON.get(language, _SECOND_PERSON["en"]) & set(tokens):
        return _reject(Rule.NOT_TO_STUDENT)
    for rejected in (_talks_about_itself(text, screened), _repeats_injection(text, screened, prompt),
                     _mentions_what_was_not_given(text, screened, prompt)):
        if rejected is not None:
            return rejected
    if not _refers_to_the_feedback(text, feedback):
        return _reject(Rule.NO_REFERENCE)
    if _claims_another_self_view(text, feedback):
        return _reject(Rule.SELF_VIEW)
    weakest = clearly_weakest(feedback)
    if weakest is not None and not criteria.mentions(text, weakest.name, language):
        return _reject(Rule.WEAKEST, criterion=weakest.name)
    if praised := _praises_the_lowest(text, feedback):
        return _reject(Rule.PRAISES_WEAKEST, criterion=praised.name)
    return Verdict(text=text)


def _lowest(feedback: ReceivedFeedback) -> CriterionScore | None:
    """The criterion peers scored lowest when it is clearly low: the only lowest of two or more, or below the
    middle of its scale."""
    scored = sorted(feedback.scored_criteria, key=lambda c: c.average)
    if not scored:
        return None
    low = scored[0]
    below_middle = low.average < (low.min_score + low.max_score) / 2
    alone_lowest = len(scored) > 1 and scored[1].average - low.average >= 0.5
    return low if below_middle or alone_lowest else None


def _praises_the_lowest(text: str, feedback: ReceivedFeedback) -> CriterionScore | None:
    """The clearly lowest criterion, when a sentence names it with praise and nothing that tempers it."""
    low = _lowest(feedback)
    if low is None:
        return None
    for sentence in sentences(text):
        named = criteria.mentions(sentence, low.name, feedback.language)
        others = [c for c in feedback.scored_criteria if c is not low and criteria.mentions(sentence, c.name, feedback.language)]
        # A sentence that names a better criterion too is about that one ("strong in X, less in Y").
        if named and not others and _PRAISE.search(sentence) and not _NOT_PRAISE.search(sentence):
            return low
    return None


def clearly_weakest(feedback: ReceivedFeedback) -> CriterionScore | None:
    """The criterion whose average is at least WEAKEST_GAP below every other scored one, if there is one."""
    scored = sorted(feedback.scored_criteria, key=lambda c: c.average)
    if len(scored) >= 2 and scored[0].average <= scored[1].average - WEAKEST_GAP:
        return scored[0]
    return None


def _runs(tokens: list[str], size: int) -> set[tuple[str, ...]]:
    return {tuple(tokens[i : i + size]) for i in range(len(tokens) - size + 1)}


def _echoes(tokens: list[str], prompt: Prompt) -> Verdict | None:
    """Our own words coming back: the retry note (with any reason in it) or the rules."""
    note = words(" ".join([RETRY_NOTE, *REASONS.values()]))
    if _runs(tokens, _ECHO_RUN) & _runs(note, _ECHO_RUN):
        return _reject(Rule.ECHO_NOTE)
    if _runs(tokens, _RULES_RUN) & _runs(words(prompt.instructions), _RULES_RUN):
        return _reject(Rule.ECHO_RULES)
    return None


def _talks_about_itself(text: str, screened: Screened) -> Verdict | None:
    if gives_orders(text):
        return _reject(Rule.ORDERS)
    outside_quotes = _QUOTED.sub(" ", text)
    language = screened.feedback.language
    if _ROLE_PLAY.search(text) or _FIRST_PERSON.get(language, _FIRST_PERSON["en"]) & set(words(outside_quotes)):
        return _reject(Rule.ROLE_PLAY)
    data = " ".join(c.text for c in screened.feedback.comments).lower()
    for match in _META.finditer(text):
        if match.group(0).lower() not in data:  # a comment may say "the task" too; then the answer may repeat it
            return _reject(Rule.META)
    return None


def _repeats_injection(text: str, screened: Screened, prompt: Prompt) -> Verdict | None:
    """A sentence that carries what a removed order said: a run of three of its words (not all function
    words), or two consecutive words that only the order used ("top marks").

    Words the prompt itself uses ("score", "comments", the criteria) and words any summary uses
    are never traces, so a victim's summary does not fail because the injection said "score" too,
    and "you get the best marks" does not fail because an injection asked for "top marks".
    """
    if not screened.removed:
        return None
    # The prompt holds the screened comments too: a word a kept comment used is no trace either.
    ordinary = _COMMON | _SUMMARY_WORDS | set(words(" ".join(m["content"] for m in prompt.messages)))
    removed_runs: set[tuple[str, ...]] = set()
    trace_pairs: set[tuple[str, ...]] = set()
    for part in screened.removed:
        removed = words(part)
        removed_runs |= _runs(removed, _INJECTION_RUN)
        trace_pairs |= {pair for pair in _runs(removed, 2) if not set(pair) & ordinary}
    kept_runs = set().union(*(_runs(words(c.text), _INJECTION_RUN) for c in screened.feedback.comments))
    for sentence in sentences(text):
        tokens = words(sentence)
        shared = {run for run in _runs(tokens, _INJECTION_RUN) & removed_runs - kept_runs
                  if any(w not in _COMMON for w in run)}
        if shared or _runs(tokens, 2) & trace_pairs:
            return _reject(Rule.INJECTION)
    return None


def _mentions_what_was_not_given(text: str, screened: Screened, prompt: Prompt) -> Verdict | None:
    feedback = screened.feedback
    language = feedback.language
    scored = feedback.scored_criteria
    for criterion in feedback.criteria:
        if criterion.average is None and criteria.mentions_by_name(text, criterion.name):
            return _reject(Rule.UNSCORED, criterion=criterion.name)
    known = [concept for c in scored for concept in criteria.concepts_of(c.name)]
    for heading in _HEADING.findall(text):
        if not any(criteria.mentions(heading, c.name, language) for c in scored):
            return _reject(Rule.UNSCORED, criterion=heading.strip())
    said = " ".join(c.text for c in feedback.comments).lower()
    for sentence in sentences(text):
        for noun, concept in criteria.criterion_nouns(sentence, language):
            if concept in known or any(criteria.mentions_by_name(noun, c.name) for c in scored):
                continue
            if _SCORE_TALK.search(sentence):
                return _reject(Rule.UNSCORED, criterion=noun)
            # Without a score, a criterion the evaluation does not have may still be what a teammate wrote
            # about ("your ideas" for creativity); one that nobody mentioned is invented.
            if not any(criteria.has_phrase(said, phrase) for phrase in (*concept.nouns.get(language, ()),
                                                                         *concept.phrases.get(language, ()))):
                return _reject(Rule.INVENTED, criterion=noun)
    # Whole numbers up to the top of the scale may be counts ("two points"); anything else must be in the data.
    top = max((c.max_score for c in scored), default=MAX_SENTENCES)
    given = {prompt.data["reviewers"], len(prompt.data["comments"])}
    for criterion in scored:
        given.update({criterion.count, round(criterion.average, 1), round(criterion.average, 2)})
    for number in _NUMBER.findall(text):
        value = float(number.replace(",", "."))
        if value not in given and not (number.isdigit() and value <= top):
            return _reject(Rule.NUMBER, number=number)
    return None


def _claims_another_self_view(text: str, feedback: ReceivedFeedback) -> bool:
    """A label's word, or a claim that the student rates themself higher or lower than the numbers say."""
    if _LABEL_WORDS.search(text):
        return True
    for sentence in sentences(text):
        if not _SELF_REFERENCE.search(sentence):
            continue
        claims = {view for view, pattern in (("higher", _HIGHER), ("lower", _LOWER)) if pattern.search(sentence)}
        if claims and claims != {feedback.self_view}:
            return True
    return False


def _stems(text: str) -> set[str]:
    return {w[: criteria.STEM + 1] for w in words(text) if len(w) >= 5 and w not in _COMMON}


def _refers_to_the_feedback(text: str, feedback: ReceivedFeedback) -> bool:
    """Names a scored criterion, or shares at least two telling words with the comments."""
    if any(criteria.mentions(text, c.name, feedback.language) for c in feedback.scored_criteria):
        return True
    return len(_stems(text) & _stems(" ".join(c.text for c in feedback.comments))) >= 2
