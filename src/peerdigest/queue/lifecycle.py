"""Every change of a summary job's status: the one module that sets `SummaryJob.status`.

    transition          from                  to           side effects, once the change is committed
    ------------------  --------------------  -----------  ---------------------------------------------
    accept              (new row)             queued       put on its Redis queue
    accept (cached)     (new row)             completed    webhook
    start               queued                processing   -
    complete            processing            completed    webhook, duration metrics, mail (release: automatic)
    retry_later         processing            queued       - (RQ's `Retry` holds it until `next_retry_at`)
    fail                queued, processing    failed       webhook
    cancel              queued, processing    cancelled    taken off its queue, or its work horse stopped
    hand_back           queued, processing    queued       removed from Redis, put on its queue again
                        processing            failed       (no attempts left) removed from Redis, webhook
    complete_from_rq    queued, processing    completed    webhook (its run finished on RQ; summary stored)
    follow_rq           queued, processing    failed,      webhook (RQ recorded an end the row missed)
                                              cancelled
    set_aside           queued, processing    failed       webhook (its job hash on Redis is unreadable)

    put_on_queue        queued                queued       on its Redis queue (`enqueued_at` set)

`queued` and `processing` are open (`JobStatus.open()`): the student's one job,
held by `open_key`. Every other status is an end, reached through `_end`.

Each transition is compare-and-set → change → commit → side effects:

1. `_lock` the row if its status is still one the transition starts from
   (else it returns None and changes nothing: whoever moved the job first wins,
   so a worker never completes a job a teacher cancelled a moment earlier);
2. change the row;
3. commit the caller's session. This is the one place below the boundary that
   commits, and the one named exception to "the boundary commits once": the row
   is the database of record, so it is written before Redis or a webhook is told
   ("row first, then Redis"). Whatever Redis misses is repaired from the row by
   the reconciler;
4. the side effects, in `_after_end` for every end (add what every ended job
   needs there) or in the transition itself for what only it needs.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from redis import Redis
from redis.exceptions import RedisError
from rq import Callback, Queue
from rq.command import send_stop_job_command
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.executions import Execution
from rq.job import Job
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from peerdigest.config import Settings
from peerdigest.db.models import Evaluation, FeedbackSummary, JobStatus, SummaryJob, utcnow
from peerdigest.domain.feedback import feedback_hash
from peerdigest.domain.mail import summaries_released
from peerdigest.domain.received import ReceivedFeedback
from peerdigest.domain.summaries import store
from peerdigest.domain.webhooks import EVENTS
from peerdigest.queue.connection import ensure_binary_safe
from peerdigest.queue.deliveries import announce
from peerdigest.queue.job_metrics import observe_completed
from peerdigest.queue.mail import announce as announce_mail
from peerdigest.queue.queues import STOPPED_CALLBACK, SUMMARY_TASK, queue_name
from peerdigest.summarize import Summary

log = logging.getLogger(__name__)

RESULT_TTL = 24 * 3600  # seconds RQ keeps a finished job's hash
FAILURE_TTL = 7 * 24 * 3600  # seconds RQ keeps a failed one, for inspection
FORGET_TRIES = 3  # deletes of a job hash whose executions vanish underneath (see `_forget`)


# --- Accepting --------------------------------------------------------------------


def accept(
    session: Session, redis: Redis, settings: Settings, new: list[tuple[SummaryJob, dict | None]]
) -> list[SummaryJob]:
    """(new rows) → queued, or → completed from the stored summary when a job comes with its cached result.

    1. each row is added as its student's open job (or as completed, `cached`);
    2. one commit for all: raises `IntegrityError` when a student has an open job already;
    3. the cached ones announce their webhooks; the queued ones go onto Redis in one round trip.
    """
    for job, cached_result in new:
        job.status = JobStatus.queued
        job.open_key = SummaryJob.open_key_for(job.evaluation_id, job.student_id)
        job.created_at = utcnow()
        if cached_result is not None:
            job.cached = True
            _end(job, JobStatus.completed, result=cached_result)
        session.add(job)
    session.commit()
    for job, cached_result in new:
        if cached_result is not None:
            log.info("job %s: completed from the stored summary (feedback unchanged)", job.job_id)
            _after_end(session, redis, settings, job)
    put_on_queues(session, redis, settings, [job for job, cached_result in new if cached_result is None])
    return [job for job, _ in new]


def put_on_queue(session: Session, redis: Redis, settings: Settings, job: SummaryJob) -> bool:
    """Put a queued job on its Redis queue, re-created from its row; False (and logged) when Redis is unreachable."""
    return put_on_queues(session, redis, settings, [job])


def put_on_queues(session: Session, redis: Redis, settings: Settings, jobs: list[SummaryJob]) -> bool:
    """queued → queued on Redis: put the jobs on their queues in one round trip; False (logged) when Redis is unreachable.

    The rows stay `queued` either way. Their `enqueued_at` records that Redis has
    them, committed with one statement; a row without one is put on its queue by
    the reconciler later.
    """
    if not jobs:
        return True
    redis = ensure_binary_safe(redis)
    by_queue: dict[str, list] = {}
    for job in jobs:
        by_queue.setdefault(queue_name(job.priority), []).append(
            Queue.prepare_data(
                SUMMARY_TASK,
                (job.job_id, job.evaluation_id, job.student_id),
                job_id=job.job_id,
                timeout=settings.job_timeout,
                result_ttl=RESULT_TTL,
                failure_ttl=FAILURE_TTL,
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


# --- What a worker does -------------------------------------------------------------


def start(session: Session, job_id: str, worker_name: str | None) -> SummaryJob | None:
    """queued → processing: a worker begins an attempt. Each start counts an attempt.

    A `processing` row is never started again: its run may still be going (a
    duplicate queue entry, a reconciler that misjudged a live job), and two runs
    would make two LLM calls for one summary. A run that was really lost is
    handed back to `queued` by the reconciler (`hand_back`), counting the attempt.
    """
    job = _lock(session, job_id, JobStatus.queued)
    if job is None:
        return None
    job.status = JobStatus.processing
    job.started_at = utcnow()
    job.attempts += 1
    job.progress = 10
    job.next_retry_at = None
    job.worker_name = worker_name
    session.commit()
    return job


def complete(
    session: Session, redis: Redis, settings: Settings, job_id: str, summary: Summary, received: ReceivedFeedback
) -> SummaryJob | None:
    """processing → completed: the summary a worker wrote becomes the student's stored summary.

    1. the row, if still `processing` (a job cancelled while it ran discards its summary: None);
    2. the summary is stored (replacing the student's previous one, whose review starts over)
       and is the job's result; a fallback or a rejected first answer leaves a note in `error_message`;
    3. the student's mail, when the summary is released at once (`release: automatic`), and commit;
    4. webhook, the mail queued; the job's and the LLM's durations and the guard's rejections go to the metrics.
    """
    job = _lock(session, job_id, JobStatus.processing)
    if job is None:
        return None
    stored = store(
        session, job.evaluation_id, job.student_id, summary, feedback_hash(received), len(received.comments)
    )
    _end(job, JobStatus.completed, result=stored.as_result(), error_message=_note(summary))
    # Released at once (release: automatic): the student's mail is written with the summary.
    mails = summaries_released(session, settings, session.get(Evaluation, job.evaluation_id), [job.student_id])
    session.commit()
    _after_end(session, redis, settings, job)
    announce_mail(redis, settings, mails)
    observe_completed(redis, job, summary.generation_method, summary.duration_ms, summary.rejections)
    return job


def _note(summary: Summary) -> str | None:
    """What a completed job tells about how its summary came to be, when it did not go as planned."""
    notes = []
    if summary.fallback_reason:
        notes.append(f"fell back to the builtin summarizer: {summary.fallback_reason}")
    elif summary.rejections:
        notes.append(f"the output guard rejected the first answer [{', '.join(summary.rejections)}]; the next one was used")
    if summary.trimmed:
        notes.append(summary.trimmed)
    return "; ".join(notes) or None


def retry_later(session: Session, job_id: str, reason: str, delay: int) -> SummaryJob | None:
    """processing → queued until `next_retry_at`, after an attempt failed for a transient reason.

    Still open, so still the student's one job; the worker returns `rq.Retry`, which
    holds the RQ job in its scheduled registry until then. None when the job ended meanwhile.
    """
    job = _lock(session, job_id, JobStatus.processing)
    if job is None:
        return None
    _queued_again(job, reason, at=utcnow() + timedelta(seconds=delay))
    session.commit()
    return job


def fail(
    session: Session,
    redis: Redis,
    settings: Settings,
    job_id: str,
    error_message: str,
    *,
    expected: tuple[JobStatus, ...] = JobStatus.open(),
) -> SummaryJob | None:
    """queued, processing → failed, with the reason in `error_message`; then the webhook."""
    job = _lock(session, job_id, *expected)
    if job is None:
        return None
    _end(job, JobStatus.failed, error_message=error_message)
    session.commit()
    _after_end(session, redis, settings, job)
    return job


# --- What a user does -----------------------------------------------------------------


def cancel(session: Session, redis: Redis, settings: Settings, job_id: str, by_id: int | None) -> SummaryJob | None:
    """queued, processing → cancelled on request; `by_id` is who asked (None: an operator on the command line).

    1. the row, if still open (None otherwise: the job ended first);
    2. cancelled, with who and when;
    3. commit: the cancel holds from here even if Redis is out of reach or too late,
       since a worker that picks the job up finds it cancelled and skips it, and one
       that finishes it discards its summary;
    4. on Redis, RQ does the rest: `Job.cancel` takes a waiting job off its queue (or out
       of the scheduled registry while it waits for a retry), and `send_stop_job_command`
       makes the worker kill the work horse of a running one.
    """
    job = _lock(session, job_id, *JobStatus.open())
    if job is None:
        return None
    was_running = job.status == JobStatus.processing
    _end(job, JobStatus.cancelled)
    job.cancelled_at = job.completed_at
    job.cancelled_by_id = by_id
    session.commit()
    _stop_on_redis(ensure_binary_safe(redis), job_id, was_running)
    _after_end(session, redis, settings, job)
    log.info("job %s: cancelled (%s)", job_id, "stopped while running" if was_running else "before it ran")
    return job


# --- What the reconciler does ------------------------------------------------------------


def hand_back(
    session: Session, redis: Redis, settings: Settings, seen: SummaryJob, why: str, rq_job: Job | None
) -> JobStatus | None:
    """queued, processing → queued again, re-created from the row; processing → failed when no attempts are left.

    `seen` is the row as the reconciler saw it: the change happens only if neither its
    status nor its attempts moved since. A `processing` row lost a run, which counted
    as an attempt. Returns the row's new status, or None when nothing was done.

    1. the row, if unchanged;
    2. failed (attempts used up), or queued with the lost run's reason and no `enqueued_at`;
    3. commit: should this process die now, the next pass finds a queued job Redis
       does not know, and queues it;
    4. what Redis still has of the job is removed; then the webhook (failed), or the
       job is put on its queue again.
    """
    job = _lock(session, seen.job_id, seen.status)
    if job is None or job.attempts != seen.attempts:
        return None
    lost_a_run = job.status == JobStatus.processing
    if lost_a_run and job.attempts > job.max_retries:
        _end(job, JobStatus.failed, error_message=f"{why} on attempt {job.attempts} of {job.max_retries + 1}")
        session.commit()
        _forget(redis, job.job_id, rq_job)
        log.warning("job %s: %s; no attempts left, failed", job.job_id, why)
        _after_end(session, redis, settings, job)
        return JobStatus.failed
    if lost_a_run:
        _queued_again(job, f"{why} on attempt {job.attempts}; running it again", at=None)
    job.enqueued_at = None
    session.commit()
    _forget(redis, job.job_id, rq_job)
    queued = put_on_queue(session, redis, settings, job)
    log.warning(
        "job %s: %s; %s", job.job_id, why, "queued again" if queued else "to be queued again once Redis answers"
    )
    return JobStatus.queued


def complete_from_rq(
    session: Session, redis: Redis, settings: Settings, seen: SummaryJob, stored: FeedbackSummary
) -> SummaryJob | None:
    """queued, processing → completed, for a run that finished on RQ without recording its end; its summary is `stored`."""
    job = _lock(session, seen.job_id, seen.status)
    if job is None:
        return None
    _end(job, JobStatus.completed, result=stored.as_result())
    session.commit()
    log.warning("job %s: finished on RQ but still %s here; completed from its stored summary", job.job_id, seen.status)
    _after_end(session, redis, settings, job)
    return job


def follow_rq(
    session: Session, redis: Redis, settings: Settings, seen: SummaryJob, status: JobStatus, reason: str
) -> SummaryJob | None:
    """queued, processing → failed or cancelled, as RQ recorded while the row missed it; `reason` in `error_message`.

    Nothing is told to Redis: RQ already holds the job as ended.
    """
    job = _lock(session, seen.job_id, seen.status)
    if job is None:
        return None
    _end(job, status, error_message=reason)
    if status == JobStatus.cancelled:
        job.cancelled_at = job.completed_at
    session.commit()
    log.warning("job %s: %s on RQ but %s here; now %s: %s", job.job_id, status, seen.status, status, reason)
    _after_end(session, redis, settings, job)
    return job


def set_aside(session: Session, redis: Redis, settings: Settings, job_id: str, reason: str) -> SummaryJob | None:
    """queued, processing → failed, because its job hash on Redis cannot be read (the hash is moved aside by the caller)."""
    job = fail(session, redis, settings, job_id, f"its data on Redis could not be read ({reason}); queue it again")
    if job is not None:
        log.warning("job %s: failed, its queue entry was unreadable", job_id)
    return job


# --- The steps every transition shares ---------------------------------------------------


def _lock(session: Session, job_id: str, *statuses: JobStatus) -> SummaryJob | None:
    """The job, locked until the session commits, if its status is one of `statuses`; else None.

    A conditional no-op UPDATE rather than SELECT ... FOR UPDATE: SQLite ignores
    FOR UPDATE, but any UPDATE takes its write lock, and PostgreSQL re-checks the
    WHERE clause after waiting for a concurrent change of the row. Either way the
    status read here is the status the caller's changes are committed over.
    """
    # RETURNING hands back the row the UPDATE locked, in the same statement (SQLite 3.35+, PostgreSQL).
    return session.scalars(
        update(SummaryJob)
        .where(SummaryJob.job_id == job_id, SummaryJob.status.in_(statuses))
        .values(status=SummaryJob.status)
        .returning(SummaryJob)
        .execution_options(synchronize_session=False, populate_existing=True)
    ).one_or_none()


def _end(
    job: SummaryJob, status: JobStatus, *, result: dict | None = None, error_message: str | None = None
) -> None:
    """Move to an end (completed, failed, cancelled); frees the student for a new job.

    A completed job keeps `error_message` only as a note (given here); any other end keeps the
    last reason it had unless a new one is given.
    """
    job.status = status
    job.open_key = None
    job.completed_at = utcnow()
    job.next_retry_at = None
    job.webhook_pending = bool(job.webhook_url) and status in EVENTS
    if status == JobStatus.completed:
        job.progress = 100
        job.result = result
        job.error_message = error_message
    elif error_message is not None:
        job.error_message = error_message


def _queued_again(job: SummaryJob, error_message: str, at: datetime | None) -> None:
    """Back to `queued` after a failed or lost run; still open, so still the student's one job."""
    job.status = JobStatus.queued
    job.progress = 0
    job.error_message = error_message
    job.next_retry_at = at


def _after_end(session: Session, redis: Redis, settings: Settings, job: SummaryJob) -> None:
    """What follows every committed end, whichever transition reached it: the webhook.

    `webhook_pending`, committed with the end, is cleared once Redis has taken the
    delivery; when Redis is away it stays set, and the reconciler announces it later
    (`announce_pending`).
    """
    if announce(redis, settings, job) is not None and job.webhook_pending:
        job.webhook_pending = False
        session.commit()


def announce_pending(session: Session, redis: Redis, settings: Settings, ended_before: datetime) -> list[str]:
    """Queue the webhooks of jobs that ended before `ended_before` while Redis was away; the job ids announced."""
    announced = []
    pending = select(SummaryJob).where(SummaryJob.webhook_pending.is_(True), SummaryJob.completed_at < ended_before)
    for job in session.scalars(pending).all():
        if announce(redis, settings, job) is None:
            continue
        job.webhook_pending = False
        session.commit()
        announced.append(job.job_id)
    return announced


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


def _forget(redis: Redis, job_id: str, job: Job | None) -> None:
    """Remove what Redis still has of a job (hash, queue entry, registries) before it is re-created.

    Tolerant of keys that vanish meanwhile, so a hand-back is never left half done: RQ's
    `Job.delete` fetches every execution its index lists and raises `ValueError` ("Execution
    … not found in Redis") for one whose hash expired (a killed work horse stops renewing it)
    or that its worker cleaned up a moment ago. Such dangling index entries are dropped first,
    and the delete is tried again should another vanish in between.
    """
    if job is None:
        redis.delete(Job.key_for(job_id))
        return
    for _ in range(FORGET_TRIES):
        _drop_vanished_executions(redis, job)
        try:
            job.delete()
            return
        except ValueError:
            continue
    log.warning("job %s: its executions kept vanishing while it was deleted; deleting its hash only", job_id)
    redis.delete(job.key)


def _drop_vanished_executions(redis: Redis, job: Job) -> None:
    index = job.execution_registry
    for raw in redis.zrange(index.key, 0, -1):
        execution_id = raw.decode()
        if not redis.exists(Execution(execution_id, job.id, connection=redis).key):
            with redis.pipeline() as pipeline:
                pipeline.zrem(index.key, execution_id)
                pipeline.zrem(job.started_job_registry.key, f"{job.id}:{execution_id}")
                pipeline.execute()
