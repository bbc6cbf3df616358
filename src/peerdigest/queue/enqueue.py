"""Accept a summary request: record it in the database, then put its id on Redis.

The row is committed before anything touches Redis, so an accepted request
survives whatever happens to Redis next; a row that never made it onto a
queue (`enqueued_at` empty) is put there later by the reconciler.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from peerdigest.config import Settings
from peerdigest.db.models import JobStatus, Priority, SummaryJob, utcnow
from peerdigest.queue.connection import ensure_binary_safe

log = logging.getLogger(__name__)

QUEUE_NAMES: dict[str, str] = {
    Priority.high: "summaries-high",
    Priority.normal: "summaries-normal",
    Priority.low: "summaries-low",
}
TASK = "peerdigest.queue.tasks.generate_summary"


def summary_queues(redis: Redis) -> list[Queue]:
    """The summary queues, highest priority first: the order workers listen in."""
    ensure_binary_safe(redis)
    return [Queue(name, connection=redis) for name in QUEUE_NAMES.values()]


def new_job_id(evaluation_id: int, student_id: int) -> str:
    """Unique per request and never reused, so a retry can never collide with an older job."""
    return f"summary-{evaluation_id}-{student_id}-{secrets.token_hex(6)}"


@dataclass(frozen=True)
class Accepted:
    job: SummaryJob
    created: bool  # False: the student already had an open job, which is returned instead


def open_job(session: Session, evaluation_id: int, student_id: int) -> SummaryJob | None:
    key = SummaryJob.open_key_for(evaluation_id, student_id)
    return session.scalar(select(SummaryJob).where(SummaryJob.open_key == key))


def request_summary(
    session: Session,
    redis: Redis,
    settings: Settings,
    *,
    evaluation_id: int,
    student_id: int,
    requested_by_id: int | None,
    priority: str = Priority.normal,
    force: bool = False,
    webhook_url: str | None = None,
    max_retries: int | None = None,
) -> Accepted:
    """Record a job for the student (or return their open one) and queue it."""
    existing = open_job(session, evaluation_id, student_id)
    if existing is not None:
        return Accepted(existing, created=False)
    job = SummaryJob(
        job_id=new_job_id(evaluation_id, student_id),
        evaluation_id=evaluation_id,
        student_id=student_id,
        requested_by_id=requested_by_id,
        status=JobStatus.queued,
        open_key=SummaryJob.open_key_for(evaluation_id, student_id),
        priority=priority,
        force=force,
        webhook_url=webhook_url,
        max_retries=settings.max_retries if max_retries is None else max_retries,
        created_at=utcnow(),
    )
    session.add(job)
    try:
        session.commit()
    except IntegrityError:
        # Another request for the same student won the race; theirs is the open job.
        session.rollback()
        existing = open_job(session, evaluation_id, student_id)
        if existing is None:
            raise
        return Accepted(existing, created=False)
    put_on_queue(session, redis, settings, job)
    return Accepted(job, created=True)


def put_on_queue(session: Session, redis: Redis, settings: Settings, job: SummaryJob) -> bool:
    """Put a recorded job on its Redis queue; False (and logged) when Redis is unreachable."""
    queue = Queue(QUEUE_NAMES.get(job.priority, QUEUE_NAMES[Priority.normal]), connection=ensure_binary_safe(redis))
    try:
        queue.enqueue(
            TASK,
            job.job_id,
            job.evaluation_id,
            job.student_id,
            job_id=job.job_id,
            job_timeout=settings.job_timeout,
            result_ttl=24 * 3600,
            failure_ttl=7 * 24 * 3600,
            description=f"summary for student {job.student_id} in evaluation {job.evaluation_id}",
        )
    except RedisError as exc:
        log.warning("job %s recorded but not queued yet (Redis: %s); the reconciler will queue it", job.job_id, exc)
        return False
    job.enqueued_at = utcnow()
    session.commit()
    return True
