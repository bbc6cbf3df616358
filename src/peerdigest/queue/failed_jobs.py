"""Failed jobs an operator deals with: retry one (a new job like it), or discard it from the list.

The list is the database's: failed jobs nobody has dealt with yet. Retrying or
discarding marks the failed row as dismissed (who and when) and leaves its
history as it was; RQ's own record of the failure is removed from Redis.
"""

from __future__ import annotations

from redis import Redis
from redis.exceptions import RedisError
from rq.job import Job
from rq.registry import FailedJobRegistry
from sqlalchemy import select
from sqlalchemy.orm import Session

from peerdigest.config import Settings
from peerdigest.db.models import Evaluation, JobStatus, SummaryJob, utcnow
from peerdigest.queue.enqueue import Accepted, NotRetryable, retry_job
from peerdigest.queue.jobs import find
from peerdigest.queue.queues import summary_queues


class NotFailed(Exception):
    """The job is unknown, did not fail, or was dealt with already; the message says which."""


def waiting(session: Session, school_id: int | None = None, limit: int = 50) -> list[SummaryJob]:
    """Failed jobs nobody has retried or discarded yet, the latest first: of one school, or (None) of every one."""
    query = select(SummaryJob).where(SummaryJob.status == JobStatus.failed, SummaryJob.dismissed_at.is_(None))
    if school_id is not None:
        query = query.join(Evaluation, Evaluation.id == SummaryJob.evaluation_id).where(Evaluation.school_id == school_id)
    return list(session.scalars(query.order_by(SummaryJob.completed_at.desc(), SummaryJob.id.desc()).limit(limit)))


def retry(
    session: Session, redis: Redis, settings: Settings, job_id: str, school_id: int | None, by_id: int | None
) -> Accepted:
    """Queue a new job like the failed one, and take the failed one off the list."""
    failed = _undealt(session, job_id, school_id)
    try:
        accepted = retry_job(session, redis, settings, job_id)
    except NotRetryable as exc:
        raise NotFailed(str(exc)) from exc
    _dismiss(session, redis, failed, by_id)
    return accepted


def discard(session: Session, redis: Redis, job_id: str, school_id: int | None, by_id: int | None) -> SummaryJob:
    """Take the failed job off the list without running it again."""
    failed = _undealt(session, job_id, school_id)
    _dismiss(session, redis, failed, by_id)
    return failed


def _undealt(session: Session, job_id: str, school_id: int | None) -> SummaryJob:
    """The failed job, if it is of the school (None: any; else unknown, like one that does not exist) and nobody
    dealt with it yet."""
    job = find(session, job_id)
    evaluation = session.get(Evaluation, job.evaluation_id) if job is not None and school_id is not None else None
    if job is None or (school_id is not None and (evaluation is None or evaluation.school_id != school_id)):
        raise NotFailed(f"No job {job_id!r}.")
    if job.status != JobStatus.failed:
        raise NotFailed(f"Job {job_id} is {job.status}, not failed.")
    if job.dismissed_at is not None:
        raise NotFailed(f"Job {job_id} was retried or discarded already.")
    return job


def _dismiss(session: Session, redis: Redis, job: SummaryJob, by_id: int | None) -> None:
    job.dismissed_at = utcnow()
    job.dismissed_by_id = by_id
    session.commit()  # row first, then Redis: what the operator decided holds even if Redis is away
    try:
        for queue in summary_queues(redis):
            FailedJobRegistry(queue=queue).remove(job.job_id)
        redis.delete(Job.key_for(job.job_id))
    except RedisError:
        pass  # RQ's copy expires by itself (failure_ttl); the database already says the job was dealt with
