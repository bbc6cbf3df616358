"""Test data about feedback: a stored summary as a worker would have written it, and the sample import file."""

from __future__ import annotations

from pathlib import Path

from redis import Redis
from sqlalchemy import select
from sqlalchemy.orm import Session

from peerdigest.config import Settings
from peerdigest.db.models import Allocation, Evaluation, FeedbackSummary, Score, SummaryJob
from peerdigest.domain.feedback import collect, feedback_hash
from peerdigest.queue import lifecycle
from peerdigest.queue.enqueue import new_job_id

EXAMPLE_CSV = Path(__file__).resolve().parents[2] / "examples" / "peer-feedback.csv"


def store_summary(
    session: Session, evaluation_id: int, student_id: int, summary_text: str = "A summary."
) -> FeedbackSummary:
    """A summary written from the student's feedback as it is now (so not stale until that feedback changes)."""
    received = collect(session, evaluation_id, student_id)
    summary = FeedbackSummary(
        evaluation_id=evaluation_id, student_id=student_id, summary_text=summary_text, generation_method="builtin",
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


def failed_job(
    session: Session,
    redis: Redis,
    settings: Settings,
    evaluation_id: int,
    student_id: int,
    error_message: str = "LLM endpoint answered 500",
) -> SummaryJob:
    """A job that failed for good, as a worker leaves it: three attempts, two retried, the last one failed.

    Moved through the lifecycle's own transitions, but never put on Redis (a new row starts
    `queued`), so no running worker takes it meanwhile; with no webhook, `fail` tells Redis nothing.
    """
    job = SummaryJob(
        job_id=new_job_id(evaluation_id, student_id), evaluation_id=evaluation_id, student_id=student_id,
        open_key=SummaryJob.open_key_for(evaluation_id, student_id), max_retries=2,
    )
    session.add(job)
    session.commit()
    for _ in range(job.max_retries):
        lifecycle.start(session, job.job_id, "test-worker")
        lifecycle.retry_later(session, job.job_id, "LLM endpoint answered 500", delay=0)
    lifecycle.start(session, job.job_id, "test-worker")
    return lifecycle.fail(session, redis, settings, job.job_id, error_message)
