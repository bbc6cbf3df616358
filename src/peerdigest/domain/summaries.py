"""The stored summaries: the latest summary of what each student received in each evaluation."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from peerdigest.db.models import FeedbackSummary, utcnow
from peerdigest.domain import review
from peerdigest.summarize import Summary


def stored_summary(
    session: Session, evaluation_id: int, student_id: int, *, written_since: datetime | None = None
) -> FeedbackSummary | None:
    """The student's stored summary, if any (and, given `written_since`, only one written since then)."""
    query = select(FeedbackSummary).where(
        FeedbackSummary.evaluation_id == evaluation_id, FeedbackSummary.student_id == student_id
    )
    if written_since is not None:
        query = query.where(FeedbackSummary.written_at >= written_since)
    return session.scalar(query)


def stored_summaries(
    session: Session, evaluation_id: int, student_ids: Iterable[int] | None = None
) -> dict[int, FeedbackSummary]:
    """The stored summaries of the evaluation's students that have one (of `student_ids` only, given those),
    by student id; one query."""
    query = select(FeedbackSummary).where(FeedbackSummary.evaluation_id == evaluation_id)
    if student_ids is not None:
        query = query.where(FeedbackSummary.student_id.in_(list(student_ids)))
    return {summary.student_id: summary for summary in session.scalars(query)}


def store(
    session: Session, evaluation_id: int, student_id: int, summary: Summary, fingerprint: str, feedback_count: int
) -> FeedbackSummary:
    """Write `summary` as the student's stored summary, replacing the one before (flushed, not committed)."""
    stored = stored_summary(session, evaluation_id, student_id)
    if stored is None:
        stored = FeedbackSummary(evaluation_id=evaluation_id, student_id=student_id, created_at=utcnow())
        session.add(stored)
    stored.summary_text = summary.summary_text
    stored.generation_method = summary.generation_method
    stored.feedback_hash = fingerprint
    stored.feedback_count = feedback_count
    stored.duration_ms = summary.duration_ms
    stored.model = summary.model
    stored.prompt_version = summary.prompt_version
    stored.stale = False
    stored.written_at = stored.updated_at = utcnow()
    review.start_over(stored)
    session.flush()
    return stored
