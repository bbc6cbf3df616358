"""The quality corpus in tests/data/feedback_corpus: peer-feedback sets in the product's CSV import format.

`corpus.json` lists every set: its file, language, title, and the students to
check with what is expected of their summary (the weakest criterion, words
that must never appear, the number of reviewers, which edge cases it covers).
Sets are loaded through the product's own importer, then read back the way a
worker reads them (`feedback.collect` + `feedback.anonymize`).
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from peerdigest.db.models import User
from peerdigest.domain.feedback import anonymize, collect, evaluation_students
from peerdigest.domain.received import ReceivedFeedback
from peerdigest.domain.importer import import_file
from peerdigest.summarize.language import detect, sentences
from peerdigest.summarize.prompt import MAX_SENTENCES

CORPUS = Path(__file__).resolve().parents[1] / "data" / "feedback_corpus"
SCHOOL = "Corpus school"


@dataclass(frozen=True)
class Check:
    """A student whose summary the corpus says something about."""

    student: str  # email
    weakest: str | None = None
    named: tuple[str, ...] = ()
    reviewers: int | None = None
    tone: str | None = None
    method: str | None = None
    unscored: tuple[str, ...] = ()
    injection: bool = False
    must_not_contain: tuple[str, ...] = ()
    edge: tuple[str, ...] = ()


@dataclass(frozen=True)
class CorpusSet:
    name: str
    file: str
    language: str
    title: str
    notes: str
    checks: tuple[Check, ...]


def corpus_sets() -> list[CorpusSet]:
    manifest = json.loads((CORPUS / "corpus.json").read_text("utf-8"))
    return [
        CorpusSet(
            name=entry["file"].removesuffix(".csv"),
            file=entry["file"],
            language=entry["language"],
            title=entry["title"],
            notes=entry["notes"],
            checks=tuple(
                Check(**{k: tuple(v) if isinstance(v, list) else v for k, v in check.items()})
                for check in entry["checks"]
            ),
        )
        for entry in manifest["sets"]
    ]


def load(session: Session, corpus_set: CorpusSet) -> int:
    """Import one set into the database (all sets share one school); the evaluation's id."""
    report = import_file(
        session, CORPUS / corpus_set.file, school=SCHOOL, evaluation=corpus_set.title, language=corpus_set.language
    )
    assert report.ok, f"{corpus_set.file}: " + "; ".join(map(str, report.problems))
    session.commit()
    return report.evaluation_id


def received(session: Session, evaluation_id: int) -> dict[str, ReceivedFeedback]:
    """What every student of the evaluation received, anonymized as a worker sees it, by email."""
    found = {}
    for student_id in evaluation_students(session, evaluation_id):
        email = session.scalar(select(User.email).where(User.id == student_id))
        found[email] = anonymize(collect(session, evaluation_id, student_id))
    return found


# --- what every summary of the corpus must satisfy --------------------------------------------------

_PARTICLES = {"van", "de", "der", "den", "het", "ten", "ter", "te", "la", "le", "du", "da", "di", "von"}


def _fold(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(ch))


def mentions(text: str, phrase: str) -> bool:
    """`phrase` as whole words in `text`, ignoring case and accents."""
    return re.search(rf"(?<!\w){re.escape(_fold(phrase))}(?!\w)", _fold(text)) is not None


def names_in(text: str, roster: tuple[str, ...]) -> list[str]:
    """Every part of a roster name that appears in `text` (written here independently of `names.replace_names_for`)."""
    parts = {p for name in roster for p in re.split(r"[\s-]+", name) if len(p) >= 2 and p.lower() not in _PARTICLES}
    return sorted(p for p in parts if mentions(text, p))


def clearly_weakest(feedback: ReceivedFeedback) -> str | None:
    """The criterion whose average is at least 0.75 below every other one, if there is one."""
    scored = sorted(feedback.scored_criteria, key=lambda c: c.average)
    if len(scored) >= 2 and scored[0].average <= scored[1].average - 0.75:
        return scored[0].name
    return None


def problems(text: str, feedback: ReceivedFeedback) -> list[str]:
    """What is wrong with `text` as a summary of `feedback`, in plain words; empty when nothing is."""
    found = []
    if leaked := names_in(text, feedback.roster):
        found.append(f"names a member of the evaluation: {leaked}")
    if len(sentences(text)) > MAX_SENTENCES:
        found.append(f"has {len(sentences(text))} sentences")
    if detect(text) != feedback.language:
        found.append(f"is not recognisably in {feedback.language} (detected {detect(text)})")
    if (weakest := clearly_weakest(feedback)) and not mentions(text, weakest):
        found.append(f"does not name the clearly weakest criterion {weakest!r}")
    for criterion in feedback.criteria:
        if criterion.average is None and mentions(text, criterion.name):
            found.append(f"mentions {criterion.name!r}, which nobody scored")
    return found


def forbidden_in(text: str, check: Check) -> list[str]:
    return [phrase for phrase in check.must_not_contain if mentions(text, phrase)]
