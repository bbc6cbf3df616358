"""Accept a summary request: record it in the database, then put its id on Redis.

The row is committed before anything touches Redis, so an accepted request
survives whatever happens to Redis next; a row that never made it onto a
queue (`enqueued_at` empty) is put there later by the reconciler.

Two requests never reach a worker: one for a student who already has an open
job (that job is returned), and one whose feedback has not changed since the
stored summary was written (the job completes at once from that summary,
`cached`, unless the request forces a fresh one, or the stored summary was
written by another method, model or prompt version than the settings give now).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

from redis import Redis
from redis.exceptions import RedisError
from rq import Callback, Queue
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from peerdigest.config import Settings
from peerdigest.db.models import (
    FeedbackSummary,
    JobStatus,
    Priority,
    SummaryJob,
    utcnow,
)
from peerdigest.domain.feedback import FeedbackError, collect, feedback_hash
from peerdigest.domain.webhooks import announce
from peerdigest.queue.connection import ensure_binary_safe
from peerdigest.queue.jobs import find
from peerdigest.summarize import writer

log = logging.getLogger(__name__)

QUEUE_NAMES: dict[str, str] = {
    Priority.high: "summaries-high",
    Priority.normal: "summaries-normal",
    Priority.low: "summaries-low",
}
TASK = "peerdigest.queue.tasks.generate_summary"
STOPPED_CALLBACK = "peerdigest.queue.llm_slots.release_stopped"


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
    created: bool  # False: an existing job is returned instead of a new one
    # True: the feedback is unchanged and the student's latest job is a cached one with the stored summary,
    # so that job is the answer again; False with `created` False: the student's open job is returned.
    reused: bool = False

    @property
    def already_queued(self) -> bool:
        return not self.created and not self.reused


class NotRetryable(Exception):
    """`retry_job` was asked to repeat a job that is unknown, still open or completed; the message says which."""


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
    """Record a job for the student (or return their open one) and queue it, or complete it from the cache."""
    existing = open_job(session, evaluation_id, student_id)
    if existing is not None:
        return Accepted(existing, created=False)
    cached = None if force else cached_result(session, settings, evaluation_id, student_id)
    if cached is not None and webhook_url is None:
        latest = _latest_jobs(session, evaluation_id, [student_id]).get(student_id)
        if _answers_with(latest, cached):
            return Accepted(latest, created=False, reused=True)
    job = _new_job(
        settings, evaluation_id, student_id, requested_by_id, cached,
        priority=priority, force=force, webhook_url=webhook_url, max_retries=max_retries,
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
    if cached is not None:
        log.info("job %s: completed from the stored summary (feedback unchanged)", job.job_id)
        announce(redis, settings, job)
    else:
        put_on_queue(session, redis, settings, job)
    return Accepted(job, created=True)


def request_summaries(
    session: Session,
    redis: Redis,
    settings: Settings,
    *,
    evaluation_id: int,
    student_ids: list[int],
    requested_by_id: int | None,
) -> list[Accepted]:
    """`request_summary` for many students of one evaluation: one transaction and one Redis pipeline.

    The open jobs and stored summaries of all the students are read with one
    query each, every new row is committed at once, and every id goes onto Redis
    in one round trip, so queuing a class costs what queuing one student does,
    plus the rows. When a concurrent request opened a job for one of the
    students meanwhile, the shared commit fails on the open-job constraint and
    the students are taken one by one instead, which sorts out who won.
    """
    keys = [SummaryJob.open_key_for(evaluation_id, student_id) for student_id in student_ids]
    open_jobs = {
        job.student_id: job for job in session.scalars(select(SummaryJob).where(SummaryJob.open_key.in_(keys)))
    }
    stored = {
        summary.student_id: summary
        for summary in session.scalars(
            select(FeedbackSummary).where(
                FeedbackSummary.evaluation_id == evaluation_id, FeedbackSummary.student_id.in_(student_ids)
            )
        )
    }
    latest = _latest_jobs(session, evaluation_id, student_ids)
    accepted: list[Accepted] = []
    for student_id in student_ids:
        if student_id in open_jobs:
            accepted.append(Accepted(open_jobs[student_id], created=False))
            continue
        cached = _reusable(session, settings, stored.get(student_id), evaluation_id, student_id)
        if _answers_with(latest.get(student_id), cached):
            accepted.append(Accepted(latest[student_id], created=False, reused=True))
            continue
        accepted.append(Accepted(_new_job(settings, evaluation_id, student_id, requested_by_id, cached), created=True))
    created = [a.job for a in accepted if a.created]
    session.add_all(created)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        log.info("evaluation %s: a concurrent request opened a job meanwhile; queuing one by one", evaluation_id)
        return [
            request_summary(
                session, redis, settings, evaluation_id=evaluation_id, student_id=student_id, requested_by_id=requested_by_id
            )
            for student_id in student_ids
        ]
    for job in created:
        if job.cached:
            announce(redis, settings, job)
    put_on_queues(session, redis, settings, [job for job in created if not job.cached])
    return accepted


def _latest_jobs(session: Session, evaluation_id: int, student_ids: list[int]) -> dict[int, SummaryJob]:
    """Each student's newest job in the evaluation (ids only grow), for those who have one."""
    newest = (
        select(func.max(SummaryJob.id))
        .where(SummaryJob.evaluation_id == evaluation_id, SummaryJob.student_id.in_(student_ids))
        .group_by(SummaryJob.student_id)
    )
    return {job.student_id: job for job in session.scalars(select(SummaryJob).where(SummaryJob.id.in_(newest)))}


def _answers_with(latest: SummaryJob | None, cached: dict | None) -> bool:
    """Whether the student's latest job is a cached one with the stored summary, so asking again changes nothing.

    Returning that job instead of recording another `cached` one keeps a client that
    asks again and again (a page reloading, a script in a loop) from growing the history.
    """
    return cached is not None and latest is not None and latest.cached and latest.result == cached


def _new_job(
    settings: Settings,
    evaluation_id: int,
    student_id: int,
    requested_by_id: int | None,
    cached: dict | None,
    *,
    priority: str = Priority.normal,
    force: bool = False,
    webhook_url: str | None = None,
    max_retries: int | None = None,
) -> SummaryJob:
    """A new job's row: queued, or completed at once from the stored summary when `cached` holds its result."""
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
    if cached is not None:
        job.cached = True
        job.finish(JobStatus.completed, result=cached)
    return job


def cached_result(session: Session, settings: Settings, evaluation_id: int, student_id: int) -> dict | None:
    """The stored summary's result when it still describes the student's feedback; else None."""
    stored = session.scalar(
        select(FeedbackSummary).where(
            FeedbackSummary.evaluation_id == evaluation_id, FeedbackSummary.student_id == student_id
        )
    )
    return _reusable(session, settings, stored, evaluation_id, student_id)


def _reusable(
    session: Session, settings: Settings, stored: FeedbackSummary | None, evaluation_id: int, student_id: int
) -> dict | None:
    """`stored`'s result when it still describes the student's feedback and was written the way one would be now.

    A fallback summary is never reused: it was written because the LLM failed,
    and the next request should give the LLM another chance. Nor is one written
    by another method, model or prompt version than the settings give now
    (`summarize.writer`); an `empty` one (no comments) is the same whoever writes it.
    """
    if stored is None or stored.stale or stored.method == "fallback":
        return None
    if stored.method != "empty" and (stored.method, stored.model, stored.prompt_version) != writer(settings):
        return None
    try:
        received = collect(session, evaluation_id, student_id)
    except FeedbackError:
        return None  # queued all the same: the worker fails the job with this reason
    return stored.as_result() if feedback_hash(received) == stored.feedback_hash else None


def retry_job(session: Session, redis: Redis, settings: Settings, job_id: str) -> Accepted:
    """Queue a new job like a failed or cancelled one (same student, priority, options)."""
    old = find(session, job_id)
    if old is None:
        raise NotRetryable(f"No job {job_id!r}.")
    if old.status not in (JobStatus.failed, JobStatus.cancelled):
        raise NotRetryable(f"Job {job_id} is {old.status}; only failed or cancelled jobs can be retried.")
    return request_summary(
        session,
        redis,
        settings,
        evaluation_id=old.evaluation_id,
        student_id=old.student_id,
        requested_by_id=old.requested_by_id,
        priority=old.priority,
        force=old.force,
        webhook_url=old.webhook_url,
        max_retries=old.max_retries,
    )


def put_on_queue(session: Session, redis: Redis, settings: Settings, job: SummaryJob) -> bool:
    """Put a recorded job on its Redis queue; False (and logged) when Redis is unreachable."""
    return put_on_queues(session, redis, settings, [job])


def put_on_queues(session: Session, redis: Redis, settings: Settings, jobs: list[SummaryJob]) -> bool:
    """Put recorded jobs on their Redis queues in one round trip; False (and logged) when Redis is unreachable.

    Their `enqueued_at` is then committed with one statement. Jobs that did not
    make it stay without one, and the reconciler queues them later.
    """
    if not jobs:
        return True
    redis = ensure_binary_safe(redis)
    by_queue: dict[str, list] = {}
    for job in jobs:
        by_queue.setdefault(QUEUE_NAMES.get(job.priority, QUEUE_NAMES[Priority.normal]), []).append(
            Queue.prepare_data(
                TASK,
                (job.job_id, job.evaluation_id, job.student_id),
                job_id=job.job_id,
                timeout=settings.job_timeout,
                result_ttl=24 * 3600,
                failure_ttl=7 * 24 * 3600,
                description=f"summary for student {job.student_id} in evaluation {job.evaluation_id}",
                # A job stopped on request (cancel) hands back its LLM slot at once instead of when its lease ends.
                on_stopped=Callback(STOPPED_CALLBACK),
            )
        )
    try:
        with redis.pipeline() as pipe:
            for name, data in by_queue.items():
                Queue(name, connection=redis).enqueue_many(data, pipeline=pipe)
            pipe.execute()
    except RedisError as exc:
        log.warning(
            "%d job(s) recorded but not queued yet (Redis: %s), %s first; the reconciler will queue them",
            len(jobs), exc, jobs[0].job_id,
        )
        return False
    now = utcnow()
    session.execute(
        update(SummaryJob)
        .where(SummaryJob.job_id.in_([job.job_id for job in jobs]))
        .values(enqueued_at=now)
        .execution_options(synchronize_session=False)
    )
    for job in jobs:
        job.enqueued_at = now
    session.commit()
    return True
