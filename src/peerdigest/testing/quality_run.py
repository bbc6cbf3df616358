"""Run the quality corpus through the builtin summarizer and the two scripted models; measure what came out.

Shared by tests/quality (which asserts on it) and bench/quality.py (which
reports it with `make bench`), so both measure the same thing the same way.
Each model is served by its own fake OpenAI-compatible server on loopback, so
every answer goes through the real client, the output guard and the retry.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from peerdigest.config import Settings
from peerdigest.domain.flags import flag
from peerdigest.summarize import GenerationMethod, Summary
from peerdigest.summarize.builtin import BuiltinSummarizer
from peerdigest.summarize.language import sentences
from peerdigest.summarize.llm import LLMSummarizer, Outcome
from peerdigest.testing import quality_corpus
from peerdigest.testing.fake_llm import FakeLLM
from peerdigest.testing.scripted_models import Hostile, decent

CORPUS = Path(__file__).resolve().parents[3] / "tests" / "data" / "quality_corpus"
BOILERPLATE_LIMIT = 0.20  # no sentence may appear in more than this share of the summaries
FALSE_REJECTION_LIMIT = 0.05


@dataclass(frozen=True)
class Result:
    student: quality_corpus.Student
    builtin: Summary
    decent: Outcome
    hostile: Outcome
    hostile_kinds: tuple[str, ...]  # what the hostile model did in each of its answers


@dataclass(frozen=True)
class Measures:
    students: int
    decent_answers: int
    decent_rejected: int
    hostile_answers: int
    hostile_rejected: int
    builtin_boilerplate: tuple[str, float]  # the most shared sentence and the share of summaries holding it
    decent_boilerplate: tuple[str, float]
    name_leaks: int  # stored summaries (any writer) holding a name of the class
    flagged_leaks: int  # stored summaries holding an insult, a threat or words about self-harm
    guard_misses: dict[str, int]  # per hostile trick: its answers that were stored
    guard_tries: dict[str, int]  # per hostile trick: its answers

    @property
    def stored(self) -> int:
        return 3 * self.students

    @property
    def false_rejection_rate(self) -> float:
        return self.decent_rejected / self.decent_answers if self.decent_answers else 0.0

    @property
    def hostile_rejection_rate(self) -> float:
        return self.hostile_rejected / self.hostile_answers if self.hostile_answers else 1.0


def run(folder: Path = CORPUS) -> list[Result]:
    students = quality_corpus.load(folder)
    hostile = Hostile()
    decent_server, hostile_server = FakeLLM(default=decent).start(), FakeLLM(default=hostile).start()
    try:
        decent_llm, hostile_llm = _summarizer(decent_server), _summarizer(hostile_server)
        builtin = BuiltinSummarizer()
        results = []
        for student in students:
            hostile.names = tuple(m.name for m in student.members)
            hostile.nicknames = tuple(n for m in student.members for n in m.nicknames)
            hostile.payloads = student.payloads
            before = len(hostile.answered)
            outcome = hostile_llm.run(student.feedback)
            results.append(Result(student, builtin.summarize(student.feedback), decent_llm.run(student.feedback),
                                  outcome, tuple(hostile.answered[before:])))
        return results
    finally:
        decent_server.stop()
        hostile_server.stop()


def _summarizer(server: FakeLLM) -> LLMSummarizer:
    return LLMSummarizer.from_settings(
        Settings(_env_file=None, llm_base_url=server.base_url, llm_model="fake-model", llm_timeout=5)
    )


def answers(outcome: Outcome) -> list[bool]:
    """For each answer the model gave: whether the guard rejected it."""
    return [not attempt.verdict.accepted for attempt in outcome.attempts if attempt.verdict is not None]


def boilerplate(texts: list[str]) -> tuple[str, float]:
    """The sentence found in the most summaries, and the share of summaries it is in."""
    counts = Counter(sentence for text in texts for sentence in set(sentences(text)))
    if not counts:
        return ("", 0.0)
    sentence, count = counts.most_common(1)[0]
    return sentence, count / len(texts)


# Names that are ordinary words too: in a summary they only count where written as a name (capitalized).
NAME_WORDS = {"joy", "iris", "mees", "sky", "roos", "noor", "bos", "vos", "hope", "grace", "ruby", "mark", "will", "max",
              "fleur", "wood", "fox", "stone", "wit", "smit", "dan", "ben", "jon", "tom", "kim", "sam", "lot"}


def mentions(text: str, phrase: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(phrase.lower())}(?!\w)", text.lower()) is not None


def leaked_names(text: str, result: Result) -> list[str]:
    """The corpus's own names and nicknames of the class found in `text` (plain word matching, independent
    of the anonymizer and the guard)."""
    found = []
    for form in quality_corpus.name_forms(result.student.members):
        if form.lower() in NAME_WORDS:  # capitalized, not opening a sentence
            hit = any(
                (before := text[: m.start()].rstrip()) and before[-1] not in ".!?\u201c\""
                for m in re.finditer(rf"\b{re.escape(form)}s?\b", text)  # "Skys": a possessive without apostrophe
            )
        else:
            hit = mentions(text, form) or mentions(text, form + "s")
        if hit:
            found.append(form)
    return found


def stored_texts(result: Result) -> list[str]:
    """What each writer's summary of this student would store: builtin, the decent and the hostile model's."""
    return [result.builtin.summary_text, result.decent.summary.summary_text, result.hostile.summary.summary_text]


def measure(results: list[Result]) -> Measures:
    decent_answers = [rejected for r in results for rejected in answers(r.decent)]
    hostile_answers = [rejected for r in results for rejected in answers(r.hostile)]
    return Measures(
        students=len(results),
        decent_answers=len(decent_answers),
        decent_rejected=sum(decent_answers),
        hostile_answers=len(hostile_answers),
        hostile_rejected=sum(hostile_answers),
        builtin_boilerplate=boilerplate(
            [r.builtin.summary_text for r in results if r.builtin.generation_method != GenerationMethod.empty]
        ),
        decent_boilerplate=boilerplate(
            [r.decent.summary.summary_text for r in results if r.decent.summary.generation_method == GenerationMethod.ai]
        ),
        name_leaks=sum(bool(leaked_names(text, r)) for r in results for text in stored_texts(r)),
        flagged_leaks=sum(flag(text, r.student.feedback.language) is not None for r in results for text in stored_texts(r)),
        guard_misses=dict(sorted(Counter(
            kind for r in results for kind, rejected in zip(r.hostile_kinds, answers(r.hostile)) if not rejected
        ).items())),
        guard_tries=dict(sorted(Counter(kind for r in results for kind in r.hostile_kinds).items())),
    )
