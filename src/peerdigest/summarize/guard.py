"""The output guard: every LLM answer is checked here before anyone reads it.

Names of the evaluation's members are replaced (full, first or last name, any
case, possessive). An answer is rejected when it is empty, cut off, a refusal,
longer than the sentence limit, in another language, not written to the
student, repeats the instructions, mentions a criterion or score that was not
given, leaves out a criterion that scored clearly below the others, or
repeats text that only a comment giving orders contained. The
caller asks once more and then falls back to the builtin summarizer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from peerdigest.domain.feedback import (
    PEER_WORD,
    CriterionScore,
    ReceivedFeedback,
    replace_names,
)
from peerdigest.summarize.injection import Screened
from peerdigest.summarize.language import LANGUAGE_NAMES, detect, sentences, words
from peerdigest.summarize.prompt import MAX_SENTENCES, Prompt

MAX_CHARACTERS = 1500  # seven long sentences; more is a runaway answer even if it has few full stops
WEAKEST_GAP = 0.75  # an average this far below every other one is a weakness a summary must not hide

_REFUSAL = re.compile(
    r"\b(?:i'?m sorry|i am sorry|i can(?:no|')t|i am (?:not able|unable)|i'?m (?:not able|unable)|as an ai|"
    r"language model|i won'?t|het spijt me|sorry,? (?:maar )?ik kan|ik kan (?:je )?(?:hier )?niet|als ai|"
    r"taalmodel|ik ben niet in staat)\b",
    re.I,
)
_GREETING = re.compile(r"^\s*(?:hi|hey|hello|dear|hoi|hallo|beste|lieve)\b[^,.!?\n]{0,40}[,!:]\s*", re.I)
_ENDS_A_SENTENCE = re.compile(r"[.!?…][\"'”’)\]*]*\s*$")
_SECOND_PERSON = {"nl": frozenset("je jij jou jouw jezelf u uw".split()), "en": frozenset("you your yourself".split())}
# What only the prompt talks about; a summary that says these is talking about its instructions.
_META = ("feedback_data", "json", "prompt", "instruction", "instructie", "system message", "systeembericht",
         "as an ai", "als ai", "language model", "taalmodel")
_NUMBER = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)?")
_SHINGLE = 6  # this many consecutive words from the instructions count as repeating them


@dataclass(frozen=True)
class Verdict:
    """An accepted answer (`text`, names replaced) or the reason it was rejected."""

    text: str | None = None
    reason: str | None = None

    @property
    def accepted(self) -> bool:
        return self.reason is None


def check(answer: str | None, *, screened: Screened, prompt: Prompt, finish_reason: str | None = None) -> Verdict:
    feedback = screened.feedback
    language = feedback.language
    text = (answer or "").strip()
    if not text:
        return Verdict(reason="empty answer")
    if finish_reason == "length" or not _ENDS_A_SENTENCE.search(text):
        return Verdict(reason="the answer was cut off")
    if _REFUSAL.search(text):
        return Verdict(reason="the model refused")
    text = _GREETING.sub("", text, count=1)
    if not text:
        return Verdict(reason="empty answer")
    text = replace_names(text, feedback.roster, PEER_WORD.get(language, PEER_WORD["en"]))
    text = text[0].upper() + text[1:]

    count = len(sentences(text))
    if count > MAX_SENTENCES or len(text) > MAX_CHARACTERS:
        return Verdict(reason=f"too long ({count} sentences, {len(text)} characters; at most {MAX_SENTENCES} sentences)")
    found = detect(text)
    if found != language:
        seen = f"looks like {LANGUAGE_NAMES[found]}" if found else "the language is unclear"
        return Verdict(reason=f"not in {LANGUAGE_NAMES.get(language, language)} ({seen})")
    tokens = words(text)
    if not _SECOND_PERSON.get(language, _SECOND_PERSON["en"]) & set(tokens):
        return Verdict(reason="not written to the student (no second person)")
    if reason := _repeats_instructions(text, tokens, prompt, screened):
        return Verdict(reason=reason)
    if screened.traces() & set(tokens):
        return Verdict(reason="repeats a comment that tried to give orders")
    if reason := _mentions_what_was_not_given(text, screened, prompt):
        return Verdict(reason=reason)
    weakest = clearly_weakest(feedback)
    if weakest is not None and not _names(text, weakest.name):
        return Verdict(reason=f"leaves out the clearly weakest criterion ({weakest.name})")
    return Verdict(text=text)


def clearly_weakest(feedback: ReceivedFeedback) -> CriterionScore | None:
    """The criterion whose average is at least WEAKEST_GAP below every other scored one, if there is one."""
    scored = sorted(feedback.scored_criteria, key=lambda c: c.average)
    if len(scored) >= 2 and scored[0].average <= scored[1].average - WEAKEST_GAP:
        return scored[0]
    return None


def _names(text: str, name: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(name.lower())}(?!\w)", text.lower()) is not None


def _repeats_instructions(text: str, tokens: list[str], prompt: Prompt, screened: Screened) -> str | None:
    data_words = " ".join(words(" ".join(c.text for c in screened.feedback.comments)))
    lowered = text.lower()
    for meta in _META:
        if meta in lowered and meta not in data_words:
            return "talks about its instructions"
    instruction_words = words(prompt.instructions)
    shingles = {tuple(instruction_words[i : i + _SHINGLE]) for i in range(len(instruction_words) - _SHINGLE + 1)}
    if any(tuple(tokens[i : i + _SHINGLE]) in shingles for i in range(len(tokens) - _SHINGLE + 1)):
        return "repeats the instructions"
    return None


def _mentions_what_was_not_given(text: str, screened: Screened, prompt: Prompt) -> str | None:
    for criterion in screened.feedback.criteria:
        if criterion.average is None and _names(text, criterion.name):
            return f"mentions a criterion that was not scored ({criterion.name})"
    # Whole numbers up to the top of the scale may be counts ("two points"); anything else must be in the data.
    scored = screened.feedback.scored_criteria
    top = max((c.max_score for c in scored), default=MAX_SENTENCES)
    given = {prompt.data["reviewers"], len(prompt.data["comments"])}
    for criterion in scored:
        given.update({criterion.count, round(criterion.average, 1), round(criterion.average, 2)})
    for number in _NUMBER.findall(text):
        value = float(number.replace(",", "."))
        if value not in given and not (number.isdigit() and value <= top):
            return f"mentions a number that is not in the feedback ({number})"
    return None
