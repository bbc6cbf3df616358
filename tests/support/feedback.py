"""Test data about feedback: a stored summary as a worker would have written it, and the sample import file."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from peerdigest.db.models import Allocation, Evaluation, FeedbackSummary, JobStatus, Score, SummaryJob, utcnow
from peerdigest.queue.enqueue import new_job_id
from peerdigest.domain.feedback import collect, feedback_hash

EXAMPLE_CSV = Path(__file__).resolve().parents[2] / "examples" / "peer-feedback.csv"


def store_summary(session: Session, evaluation_id: int, student_id: int, text: str = "A summary.") -> FeedbackSummary:
    """A summary written from the student's feedback as it is now (so not stale until that feedback changes)."""
    received = collect(session, evaluation_id, student_id)
    summary = FeedbackSummary(
        evaluation_id=evaluation_id, student_id=student_id, text=text, method="builtin",
        feedback_hash=feedback_hash(received), feedback_count=len(received.comments),
    )
    session.add(summary)
    session.flush()
    return summary


def add_comment(session: Session, evaluation_id: int, *, reviewer_id: int, reviewee_id: int, text: str) -> None:
    """Set the comment of the reviewer's score on the evaluation's first criterion for this reviewee."""
    allocation = session.scalar(
        select(Allocation).where(
            Allocation.evaluation_id == evaluation_id,
            Allocation.reviewer_id == reviewer_id,
            Allocation.reviewee_id == reviewee_id,
        )
    )
    criterion_id = session.get(Evaluation, evaluation_id).criteria[0].id
    score = session.scalar(select(Score).where(Score.allocation_id == allocation.id, Score.criterion_id == criterion_id))
    if score is None:
        score = Score(allocation_id=allocation.id, criterion_id=criterion_id)
        session.add(score)
    score.comment = text
    session.flush()


def failed_job(session: Session, evaluation_id: int, student_id: int, error: str = "LLM endpoint answered 500") -> SummaryJob:
    """A job that failed for good, as a worker leaves it after its last attempt."""
    now = utcnow()
    job = SummaryJob(
        job_id=new_job_id(evaluation_id, student_id), evaluation_id=evaluation_id, student_id=student_id,
        status=JobStatus.failed, error=error, attempts=3, max_retries=2, created_at=now, started_at=now,
        completed_at=now,
    )
    session.add(job)
    session.flush()
    return job
