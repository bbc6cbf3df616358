"""When a student may read their summary, and whether they may ask for one themselves.

The one place every student-facing read asks (the API's summary, quotes and
job results, the student's page, the print view). An evaluation's `release`
says when: `automatic` as soon as a summary is written, `after_review` (the
default) only once a teacher approved it (see domain/review.py).
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from peerdigest.db.models import Allocation, Evaluation, FeedbackSummary, Release
from peerdigest.domain.summaries import stored_summary


def released(evaluation: Evaluation, summary: FeedbackSummary | None) -> bool:
    """Whether the student the summary is about may read it."""
    if summary is None:
        return False
    return evaluation.release == Release.automatic or summary.approved_at is not None


def released_count(session: Session, evaluation: Evaluation) -> int:
    """How many of the evaluation's students (those who receive feedback) may read their summary: one count."""
    receiving = select(Allocation.reviewee_id).where(Allocation.evaluation_id == evaluation.id)
    query = select(func.count()).select_from(FeedbackSummary).where(
        FeedbackSummary.evaluation_id == evaluation.id, FeedbackSummary.student_id.in_(receiving)
    )
    if evaluation.release != Release.automatic:
        query = query.where(FeedbackSummary.approved_at.is_not(None))
    return session.scalar(query)


def students_may_generate(evaluation: Evaluation) -> bool:
    """Whether a student may queue their own summary from their page (release is automatic: nobody reviews it first)."""
    return evaluation.release == Release.automatic


def released_summary(session: Session, evaluation: Evaluation, student_id: int) -> FeedbackSummary | None:
    """The student's summary if they may read it, else None (none written, or not approved yet)."""
    summary = stored_summary(session, evaluation.id, student_id)
    return summary if released(evaluation, summary) else None
