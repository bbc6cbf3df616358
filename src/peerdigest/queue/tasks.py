"""What a worker runs: the only place where a queued job meets the domain.

The RQ payload holds ids only; everything else is read from the database of
record when the job runs, so a job re-created from the database is identical
to the one first queued.

A job's attempts follow RQ's own retry mechanism: an attempt that fails for a
transient reason (the LLM endpoint, a lost database connection) puts the row
back to `queued` with `next_retry_at` and returns `rq.Retry`, which parks the
job in RQ's scheduled registry until the worker's scheduler queues it again.
Permanent failures (the evaluation or the student is gone) end the job at once.
Every status change is a transition of `queue.lifecycle`, a compare-and-set, so a
job cancelled while it runs is never completed, retried or failed over its cancellation.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq import Retry, get_current_job
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import configure_mappers

from peerdigest.config import Settings, load_settings
from peerdigest.db.models import JobStatus
from peerdigest.db.session import engine_for, session_scope
from peerdigest.domain.feedback import FeedbackError, anonymize, collect
from peerdigest.queue import lifecycle
from peerdigest.queue.backpressure import SharedPause
from peerdigest.queue.jobs import find
from peerdigest.queue.llm_slots import llm_slot
from peerdigest.summarize import TransientSummaryError, for_settings
from peerdigest.summarize.openai_compatible import load_client_code
from peerdigest.summarize.provider import configured

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Attempt:
    number: int  # 1 for the first run
    max_retries: int

    @property
    def final(self) -> bool:
        """No retry follows this attempt, so the summarizer must not leave it to one."""
        return self.number > self.max_retries


def is_transient(exc: BaseException) -> bool:
    """Whether a later attempt may well succeed: the LLM endpoint failed, or the connection to the database or Redis.

    Redis is only needed around the LLM call (its slot, a shared pause): once the LLM
    has answered, nothing on Redis can fail the job (see `lifecycle.complete`).
    """
    if isinstance(exc, (TransientSummaryError, OperationalError, RedisConnectionError, RedisTimeoutError)):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def retry_delay(settings: Settings, attempt: int) -> int:
    """Seconds before the retry that follows attempt number `attempt`: the base delay, doubling, capped."""
    return min(settings.retry_base_delay * 2 ** (attempt - 1), settings.retry_max_delay)


# The settings of the worker this process belongs to. RQ hands a task only its arguments, and
# parsing the environment again for every job cost ~75 ms of a ~400 ms builtin job on a busy
# machine, so the worker sets them once before it forks any work horse (`use_settings`).
_worker_settings: Settings | None = None


def use_settings(settings: Settings | None) -> None:
    """Run every job of this process, and of the work horses it forks, with `settings` (None: read them per job).

    With settings given, it also loads what each new horse would otherwise load on its
    first job (about 150 ms, on every horse at once when a pool starts): the ORM's mapper
    set-up and, with an LLM, the client's lazily imported code and certificates.
    """
    global _worker_settings
    _worker_settings = settings
    if settings is not None:
        configure_mappers()
        if configured(settings) and settings.llm_provider == "openai":
            load_client_code()


def connect() -> None:
    """Open, in a new work horse, the database connection its jobs will use (a fork cannot share one).
    A failure here is the first job's to meet."""
    settings = _worker_settings or load_settings()
    try:
        with engine_for(settings.database_url).connect():
            pass  # back into the process's pool, open
    except Exception as exc:
        log.warning("no database connection yet (%s); the first job will try again", exc)


def generate_summary(job_id: str, evaluation_id: int, student_id: int) -> dict | Retry | None:
    """Write the summary for one student and record every step on the job's row."""
    settings = _worker_settings or load_settings()
    rq_job = get_current_job()
    redis = rq_job.connection
    try:
        attempt = _start(settings, job_id, rq_job.worker_name)
    except Exception as exc:
        if not is_transient(exc):
            raise
        # The row is out of reach, and with it the job's attempt count: RQ's own count bounds these retries.
        retries = rq_job.number_of_retries or 0
        if retries >= settings.max_retries:
            raise
        delay = retry_delay(settings, retries + 1)
        log.warning("job %s: database unreachable (%s); trying again in %ds", job_id, type(exc).__name__, delay)
        return Retry(max=settings.max_retries, interval=delay)
    if attempt is None:
        return None
    log.info(
        "job %s: processing (evaluation %s, student %s), attempt %d of %d",
        job_id, evaluation_id, student_id, attempt.number, attempt.max_retries + 1,
    )

    try:
        return _summarize(settings, redis, job_id, evaluation_id, student_id, attempt)
    except FeedbackError as exc:
        # Nothing a retry could fix: the evaluation or the student is gone.
        _fail(settings, redis, job_id, str(exc))
        log.warning("job %s: failed permanently: %s", job_id, exc)
        return None
    except Exception as exc:
        reason = _reason(exc)
        if is_transient(exc) and not attempt.final:
            delay = retry_delay(settings, attempt.number)
            if not _retry_later(settings, job_id, reason, delay):
                return None
            log.warning("job %s: attempt %d failed (%s); retrying in %ds", job_id, attempt.number, reason, delay)
            # The row's attempt count decides; RQ's own count (which also holds the retries of an
            # unreachable database above) must only never refuse a retry the row still allows.
            return Retry(max=max(attempt.max_retries, (rq_job.number_of_retries or 0) + 1), interval=delay)
        _fail(settings, redis, job_id, f"failed on attempt {attempt.number} of {attempt.max_retries + 1}: {reason}")
        log.exception("job %s: failed", job_id)
        raise


def _reason(exc: Exception) -> str:
    # SQLAlchemy's message repeats the statement and its parameters, which can hold comment
    # texts; the reason is shown in the job's status and logs, so it keeps the driver's words only.
    detail = exc.orig if isinstance(exc, DBAPIError) else exc
    return f"{type(exc).__name__}: {detail}"


def _start(settings: Settings, job_id: str, worker_name: str | None) -> Attempt | None:
    with session_scope(settings.database_url) as session:
        job = lifecycle.start(session, job_id, worker_name)
        if job is not None:
            return Attempt(job.attempts, job.max_retries)
        existing = find(session, job_id)
    if existing is None:
        log.error("job %s: no such job in the database; nothing to do", job_id)
    elif existing.status == JobStatus.processing:
        log.warning(
            "job %s: already processing (attempt %d, worker %s); a second start is refused",
            job_id, existing.attempts, existing.worker_name,
        )
    else:
        log.info("job %s: already %s; not running it", job_id, existing.status)
    return None


def _summarize(
    settings: Settings, redis: Redis, job_id: str, evaluation_id: int, student_id: int, attempt: Attempt
) -> dict | None:
    # Read only: a progress step here cost a transaction of its own (a WAL write and fsync on SQLite).
    with session_scope(settings.database_url) as session:
        received = collect(session, evaluation_id, student_id)
    with llm_slot(redis, settings, holder=job_id):
        summarizer = for_settings(settings, SharedPause(redis, settings, holder=job_id))
        summary = summarizer.summarize(anonymize(received), final_attempt=attempt.final)
    with session_scope(settings.database_url) as session:
        job = lifecycle.complete(session, redis, settings, job_id, summary, received)
    if job is None:
        log.info("job %s: cancelled while it ran; its summary is discarded", job_id)
        return None
    log.info("job %s: completed (%s)", job_id, summary.generation_method)
    return job.result


def _retry_later(settings: Settings, job_id: str, reason: str, delay: int) -> bool:
    """Record the failed attempt and when the next one runs; False when the job ended meanwhile (cancelled)."""
    try:
        with session_scope(settings.database_url) as session:
            if lifecycle.retry_later(session, job_id, reason, delay) is None:
                log.info("job %s: ended while it ran; not retrying it", job_id)
                return False
    except DBAPIError as exc:
        if not is_transient(exc):
            raise
        # The database itself is what failed, and the row still says `processing`, which a retry
        # may not start. The run fails on RQ; once the database answers, the reconciler hands the
        # job back to its queue, this attempt counted (`lifecycle.hand_back`).
        log.warning("job %s: could not record the failed attempt (%s); the reconciler will hand it back",
                    job_id, type(exc).__name__)
        raise
    return True


def _fail(settings: Settings, redis: Redis, job_id: str, error: str) -> None:
    with session_scope(settings.database_url) as session:
        lifecycle.fail(session, redis, settings, job_id, error)
