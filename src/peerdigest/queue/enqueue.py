"""Accept a summary request: record it in the database, then put its id on Redis (`lifecycle.accept`).

The row is committed before anything touches Redis, so an accepted request
survives whatever happens to Redis next; a row that never made it onto a
queue (`enqueued_at` empty) is put there later by the reconciler.

Two requests never reach a worker: one for a student who already has an open
job (that job is returned), and one whose feedback has not changed since the
stored summary was written (the job completes at once from that summary,
`cached`, unless the request forces a fresh one, or the stored summary was
written by another generation method, model or prompt version than the settings give now).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

from redis import Redis
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from peerdigest.config import Settings
from peerdigest.db.models import FeedbackSummary, JobStatus, Priority, SummaryJob
from peerdigest.domain.feedback import FeedbackError, collect, evaluation_students, feedback_hash
from peerdigest.domain.summaries import stored_summaries, stored_summary
from peerdigest.queue import lifecycle
from peerdigest.queue.jobs import find, open_job, open_jobs
from peerdigest.summarize import GenerationMethod, writer

log = logging.getLogger(__name__)


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
        settings, evaluation_id, student_id, requested_by_id,
        priority=priority, force=force, webhook_url=webhook_url, max_retries=max_retries,
    )
    try:
        lifecycle.accept(session, redis, settings, [(job, cached)])
    except IntegrityError:
        # Another request for the same student won the race; theirs is the open job.
        session.rollback()
        existing = open_job(session, evaluation_id, student_id)
        if existing is None:
            raise
        return Accepted(existing, created=False)
    return Accepted(job, created=True)


def request_summaries(
    session: Session,
    redis: Redis,
    settings: Settings,
    *,
    evaluation_id: int,
    student_ids: list[int],
    requested_by_id: int | None,
    force: bool = False,
    priority: str = Priority.normal,
) -> list[Accepted]:
    """`request_summary` for many students of one evaluation: one transaction and one Redis pipeline.

    The open jobs and stored summaries of all the students are read with one
    query each, every new row is committed at once, and every id goes onto Redis
    in one round trip, so queuing a class costs what queuing one student does,
    plus the rows. When a concurrent request opened a job for one of the
    students meanwhile, the shared commit fails on the open-job constraint and
    the students are taken one by one instead, which sorts out who won.
    """
    already_open = open_jobs(session, evaluation_id, student_ids)
    stored = stored_summaries(session, evaluation_id, student_ids)
    latest = _latest_jobs(session, evaluation_id, student_ids)
    accepted: list[Accepted] = []
    new: list[tuple[SummaryJob, dict | None]] = []
    for student_id in student_ids:
        if student_id in already_open:
            accepted.append(Accepted(already_open[student_id], created=False))
            continue
        cached = None if force else _reusable(session, settings, stored.get(student_id), evaluation_id, student_id)
        if _answers_with(latest.get(student_id), cached):
            accepted.append(Accepted(latest[student_id], created=False, reused=True))
            continue
        job = _new_job(settings, evaluation_id, student_id, requested_by_id, force=force, priority=priority)
        new.append((job, cached))
        accepted.append(Accepted(job, created=True))
    try:
        lifecycle.accept(session, redis, settings, new)
    except IntegrityError:
        session.rollback()
        log.info("evaluation %s: a concurrent request opened a job meanwhile; queuing one by one", evaluation_id)
        return [
            request_summary(
                session, redis, settings, evaluation_id=evaluation_id, student_id=student_id,
                requested_by_id=requested_by_id, force=force, priority=priority,
            )
            for student_id in student_ids
        ]
    return accepted


def request_class(
    session: Session,
    redis: Redis,
    settings: Settings,
    *,
    evaluation_id: int,
    student_ids: list[int] | None,
    requested_by_id: int | None,
    priority: str = Priority.normal,
) -> list[tuple[int, Accepted | None]]:
    """`request_summaries` for the students of an evaluation: everyone who receives feedback when
    `student_ids` is None. Each asked-for student comes back once, in order, with None for one who
    receives no feedback in the evaluation (nothing is queued for them)."""
    members = evaluation_students(session, evaluation_id)
    wanted = members if student_ids is None else list(dict.fromkeys(student_ids))
    known = set(members)
    accepted = iter(
        request_summaries(
            session,
            redis,
            settings,
            evaluation_id=evaluation_id,
            student_ids=[student_id for student_id in wanted if student_id in known],
            requested_by_id=requested_by_id,
            priority=priority,
        )
    )
    return [(student_id, next(accepted) if student_id in known else None) for student_id in wanted]


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
    *,
    priority: str = Priority.normal,
    force: bool = False,
    webhook_url: str | None = None,
    max_retries: int | None = None,
) -> SummaryJob:
    """A new job's row, before `lifecycle.accept` opens it."""
    return SummaryJob(
        job_id=new_job_id(evaluation_id, student_id),
        evaluation_id=evaluation_id,
        student_id=student_id,
        requested_by_id=requested_by_id,
        priority=priority,
        force=force,
        webhook_url=webhook_url,
        max_retries=settings.max_retries if max_retries is None else max_retries,
    )


def cached_result(session: Session, settings: Settings, evaluation_id: int, student_id: int) -> dict | None:
    """The stored summary's result when it still describes the student's feedback; else None."""
    stored = stored_summary(session, evaluation_id, student_id)
    return _reusable(session, settings, stored, evaluation_id, student_id)


def _reusable(
    session: Session, settings: Settings, stored: FeedbackSummary | None, evaluation_id: int, student_id: int
) -> dict | None:
    """`stored`'s result when it still describes the student's feedback and was written the way one would be now.

    A fallback summary is never reused: it was written because the LLM failed,
    and the next request should give the LLM another chance. Nor is one written
    by another generation method, model or prompt version than the settings give now
    (`summarize.writer`); an `empty` one (no comments) is the same whoever writes it.
    """
    if stored is None or stored.stale or stored.generation_method == GenerationMethod.fallback:
        return None
    written = (stored.generation_method, stored.model, stored.prompt_version)
    if stored.generation_method != GenerationMethod.empty and written != writer(settings):
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
