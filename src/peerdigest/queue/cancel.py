"""Cancel summary jobs: a queued job never runs, a running one is stopped.

The row is cancelled first, under the same lock every status change takes,
and only then is Redis told. So a cancel holds even when Redis is out of
reach or too late: a worker that picks the job up finds the row cancelled and
skips it, and a worker that finishes a cancelled job discards its summary.
On Redis, RQ does the rest: `Job.cancel` takes a waiting job off its queue
(or out of the scheduled registry while it waits for a retry), and
`send_stop_job_command` makes the worker kill the work horse of a running one.
"""

from __future__ import annotations

import logging

from redis import Redis
from redis.exceptions import RedisError
from rq.command import send_stop_job_command
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job
from sqlalchemy import select
from sqlalchemy.orm import Session

from peerdigest.db.models import JobStatus, SummaryJob
from peerdigest.queue.connection import ensure_binary_safe
from peerdigest.queue.jobs import find, lock

log = logging.getLogger(__name__)


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


def cancel(session: Session, redis: Redis, job_id: str, by_id: int | None) -> SummaryJob:
    """Cancel one open job; raises `JobNotFound` or `JobAlreadyEnded`."""
    job = lock(session, job_id, *JobStatus.open())
    if job is None:
        session.rollback()
        existing = find(session, job_id)
        if existing is None:
            raise JobNotFound(job_id)
        raise JobAlreadyEnded(existing)
    was_running = job.status == JobStatus.processing
    job.cancel(by_id)
    session.commit()
    _stop_on_redis(ensure_binary_safe(redis), job_id, was_running)
    log.info("job %s: cancelled (%s)", job_id, "stopped while running" if was_running else "before it ran")
    return job


def cancel_all(session: Session, redis: Redis, evaluation_id: int, by_id: int | None) -> list[SummaryJob]:
    """Cancel every open job of an evaluation; jobs that end meanwhile are left as they ended."""
    open_ids = session.scalars(
        select(SummaryJob.job_id).where(
            SummaryJob.evaluation_id == evaluation_id, SummaryJob.status.in_(JobStatus.open())
        )
    ).all()
    cancelled = []
    for job_id in open_ids:
        try:
            cancelled.append(cancel(session, redis, job_id, by_id))
        except JobAlreadyEnded:
            continue
    return cancelled


def _stop_on_redis(redis: Redis, job_id: str, running: bool) -> None:
    try:
        if running:
            send_stop_job_command(redis, job_id)
        else:
            Job.fetch(job_id, connection=redis).cancel()
    except (NoSuchJobError, InvalidJobOperation):
        pass  # nothing left to stop on Redis: the job hash is gone, already cancelled, or no longer running
    except RedisError as exc:
        log.warning("job %s: cancelled in the database, but Redis was not told (%s); workers will skip it", job_id, exc)
