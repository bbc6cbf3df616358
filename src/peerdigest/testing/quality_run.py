"""Run the quality corpus through the builtin summarizer and the two scripted models; measure what came out.

Shared by tests/quality (which asserts on it) and bench/quality.py (which
reports it with `make bench`), so both measure the same thing the same way.
Each model is served by its own fake OpenAI-compatible server on loopback, so
every answer goes through the real client, the output guard and the retry.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from peerdigest.config import Settings
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
    )
