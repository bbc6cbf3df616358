"""Cancel summary jobs on request: a queued job never runs, a running one is stopped.

The transition itself (row first, then Redis) is `lifecycle.cancel`; this module
says why a cancel was refused, and cancels every open job of an evaluation.
"""

from __future__ import annotations

from redis import Redis
from sqlalchemy import select
from sqlalchemy.orm import Session

from peerdigest.config import Settings
from peerdigest.db.models import JobStatus, SummaryJob
from peerdigest.queue import lifecycle
from peerdigest.queue.jobs import find


class CannotCancel(Exception):
    """The message says why, in words for whoever asked."""


class JobNotFound(CannotCancel):
    def __init__(self, job_id: str):
        super().__init__(f"No job {job_id!r}.")


class JobAlreadyEnded(CannotCancel):
    """The job reached its end before the cancel."""

    def __init__(self, job: SummaryJob):
        super().__init__(
            f"Job {job.job_id} has already ended ({job.status}); only queued or processing jobs can be cancelled."
        )
        self.job = job


def cancel(session: Session, redis: Redis, settings: Settings, job_id: str, by_id: int | None) -> SummaryJob:
    """Cancel one open job; raises `JobNotFound` or `JobAlreadyEnded`."""
    job = lifecycle.cancel(session, redis, settings, job_id, by_id)
    if job is not None:
        return job
    session.rollback()
    existing = find(session, job_id)
    if existing is None:
        raise JobNotFound(job_id)
    raise JobAlreadyEnded(existing)


def cancel_all(
    session: Session, redis: Redis, settings: Settings, evaluation_id: int, by_id: int | None
) -> list[SummaryJob]:
    """Cancel every open job of an evaluation; jobs that end meanwhile are left as they ended."""
    open_ids = session.scalars(
        select(SummaryJob.job_id).where(
            SummaryJob.evaluation_id == evaluation_id, SummaryJob.status.in_(JobStatus.open())
        )
    ).all()
    cancelled = []
    for job_id in open_ids:
        try:
            cancelled.append(cancel(session, redis, settings, job_id, by_id))
        except JobAlreadyEnded:
            continue
    return cancelled
