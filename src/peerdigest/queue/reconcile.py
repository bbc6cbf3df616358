"""Bring Redis in line with the database of record, which always wins.

The database says which jobs are open; Redis only says where each one is. A
pass looks at every open job on both sides and repairs each difference:

- queued in the database but unknown to Redis (Redis restarted without
  persistence, FLUSHDB, `queues clear`, a failover), or popped off its queue by
  a worker that died before it began: put on its queue again, re-created from
  the row;
- running, but no heartbeat for JOB_ABANDONED_AFTER seconds (its worker was
  killed, ran out of memory, lost its machine): abandoned. The lost run counted
  as an attempt; with attempts left the job runs again, else it fails;
- finished or failed on RQ while the row is still open (the run ended without
  writing its row, e.g. a work horse killed hard): the row follows RQ;
- a job hash RQ cannot read: moved aside to the failed registry with the
  reason, and its row fails (`set_aside`). Workers do the same when they pop
  one (see queue.worker.SummaryQueue), so bad data never stops a worker;
- a queue entry that is not a job id at all: moved to the quarantine
  (`queue.quarantine`) before anything reads the queues;
- a retry that is due while no RQ scheduler is alive to queue it: queued
  (`queue.due_retries`).

Passes are safe from several processes at once: a Redis lock makes them take
turns, and every row change is a `lifecycle` transition, a compare-and-set on
the status the pass saw, so a worker or a cancel that moved the job meanwhile wins.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from redis import Redis
from redis.exceptions import RedisError
from rq.exceptions import NoSuchJobError
from rq.executions import Execution
from rq.job import Job
from rq.job import JobStatus as RQStatus
from rq.registry import FailedJobRegistry, ScheduledJobRegistry
from rq.utils import current_timestamp
from rq.worker import Worker
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from peerdigest.config import Settings
from peerdigest.db.models import JobStatus, SummaryJob, utcnow
from peerdigest.db.session import session_scope
from peerdigest.domain.summaries import stored_summary
from peerdigest.queue import due_retries, lifecycle, quarantine, repairs
from peerdigest.queue.connection import ensure_binary_safe
from peerdigest.queue.jobs import find
from peerdigest.queue.queues import all_queues, queue_name, summary_queues

log = logging.getLogger(__name__)

LOCK_KEY = "peerdigest:reconcile"
LOCK_TTL = 120  # seconds; a pass that dies holding the lock holds up the next ones this long at most
# Between popping a job id and marking its job started, a worker holds it where no pass can see
# it (RQ's BLPOP over several queues has no intermediate list). A job that looks lost is looked
# at again this much later, long after any live worker has marked it started.
SECOND_LOOK = 1.0
# RQ kills a work horse this long after its job timeout (rq.worker.Worker.monitor_work_horse);
# a run older than that has ended, whatever heartbeats say.
HARD_KILL_GRACE = 60
# A job's own webhook is queued the moment its end is committed; one still pending this long
# after the end met a Redis that was away.
WEBHOOK_GRACE = 10


@dataclass
class Report:
    """What one pass found and repaired; the counts are what the metrics count."""

    checked: int = 0  # open jobs looked at
    requeued: int = 0  # queued jobs Redis did not know, put on their queue again
    rerun: int = 0  # abandoned runs handed back to the queue (the lost run counted as an attempt)
    abandoned: int = 0  # abandoned runs without attempts left: failed
    aligned: int = 0  # rows brought in line with the end RQ recorded
    set_aside: int = 0  # unreadable job hashes moved to the failed registry
    quarantined: int = 0  # queue entries that were not job ids, moved to the quarantine
    promoted: int = 0  # due retries queued because no RQ scheduler did
    announced: int = 0  # webhooks of jobs that ended while Redis was away, queued now
    skipped: str | None = None  # why this pass did nothing

    @property
    def repairs(self) -> int:
        return sum(self.counts().values())

    def counts(self) -> dict[str, int]:
        return {name: value for name, value in asdict(self).items() if name not in ("checked", "skipped")}


class Seen(StrEnum):
    """Where Redis has a job, as far as an open row is concerned."""

    waiting = "waiting"  # on its queue, or scheduled for a retry: nothing to do
    missing = "missing"  # no job hash
    stranded = "stranded"  # its hash says waiting, but no queue or registry holds it
    running = "running"
    finished = "finished"
    failed = "failed"
    stopped = "stopped"  # stopped or cancelled on RQ
    unreadable = "unreadable"


@dataclass(frozen=True)
class Sighting:
    seen: Seen
    job: Job | None = None
    reason: str = ""

    @property
    def heartbeat(self) -> datetime | None:
        if self.job is None:
            return None
        return self.job.last_heartbeat or self.job.started_at


def reconcile(settings: Settings, redis: Redis, wait: float = 0.0) -> Report:
    """One pass over every open job.

    While another pass runs, this one waits up to `wait` seconds for its turn and
    otherwise skips: the other pass is doing the same work.
    """
    ensure_binary_safe(redis)
    turn = redis.lock(LOCK_KEY, timeout=LOCK_TTL)
    if not turn.acquire(blocking=wait > 0, blocking_timeout=wait or None):
        return Report(skipped="another reconciler is running")
    try:
        started = time.monotonic()
        report = _pass(settings, redis)
        # Kept on Redis for /metrics and the operations page (`queue.repairs`).
        repairs.record(redis, time.monotonic() - started, report.checked, report.counts())
        return report
    finally:
        try:
            turn.release()
        except RedisError:
            pass  # expired or Redis gone: the lock ends by itself


def _pass(settings: Settings, redis: Redis) -> Report:
    report = Report()
    queues = all_queues(redis)
    report.quarantined = quarantine.sweep(redis, queues)
    report.promoted = len(due_retries.promote(redis, queues))
    report.announced = _announce_pending(settings, redis)
    with session_scope(settings.database_url) as session:
        rows = list(session.scalars(select(SummaryJob).where(SummaryJob.status.in_(JobStatus.open()))))
    report.checked = len(rows)
    waiting = _waiting_ids(redis)
    lost = []
    for row in rows:
        sighting = look(redis, row.job_id, waiting)
        if sighting.seen in (Seen.missing, Seen.stranded):
            lost.append(row)
        else:
            _repair_one(settings, redis, row, sighting, report)
    if lost:
        time.sleep(SECOND_LOOK)
        waiting = _waiting_ids(redis)
        for row in lost:
            _repair_one(settings, redis, row, look(redis, row.job_id, waiting), report)
    if report.repairs:
        log.info("reconciler: %s", ", ".join(f"{n} {k}" for k, n in report.counts().items() if n))
    return report


def _announce_pending(settings: Settings, redis: Redis) -> int:
    with session_scope(settings.database_url) as session:
        announced = lifecycle.announce_pending(
            session, redis, settings, ended_before=utcnow() - timedelta(seconds=WEBHOOK_GRACE)
        )
    for job_id in announced:
        log.warning("job %s: it ended while Redis was away; its webhook is queued now", job_id)
    return len(announced)


def _repair_one(settings: Settings, redis: Redis, row: SummaryJob, sighting: Sighting, report: Report) -> None:
    """One job's repair; a surprise in it is logged and left to the next pass, never the end of this one."""
    try:
        _repair(settings, redis, row, sighting, report)
    except (RedisError, OperationalError):
        raise  # Redis or the database is away: no other job could be repaired either
    except Exception:
        log.exception("job %s: could not be reconciled (Redis: %s); trying again next pass", row.job_id, sighting.seen)


def look(redis: Redis, job_id: str, waiting: set[str]) -> Sighting:
    """What Redis holds for `job_id`; `waiting` holds the ids on a queue or scheduled for a retry."""
    try:
        job = Job.fetch(job_id, connection=redis)
        job.func_name  # RQ reads the payload lazily; read it now, where a failure can be handled
    except NoSuchJobError:
        return Sighting(Seen.missing)
    except RedisError:
        raise
    except Exception as exc:
        return Sighting(Seen.unreadable, reason=unreadable_reason(exc))
    if job_id in waiting:
        return Sighting(Seen.waiting, job)
    status = job.get_status(refresh=False)
    if status == RQStatus.STARTED:
        return Sighting(Seen.running, job)
    if status == RQStatus.FINISHED:
        return Sighting(Seen.finished, job)
    if status == RQStatus.FAILED:
        return Sighting(Seen.failed, job, _failure_reason(job))
    if status in (RQStatus.STOPPED, RQStatus.CANCELED):
        return Sighting(Seen.stopped, job, f"{status.value} on RQ")
    return Sighting(Seen.stranded, job)


def unreadable_reason(exc: Exception) -> str:
    """One line on why RQ could not read a job (RQ's DeserializationError keeps the reason in its cause)."""
    return f"{type(exc).__name__}: {exc or exc.__cause__}"[:500]


def _waiting_ids(redis: Redis) -> set[str]:
    ids: set[str] = set()
    for queue in summary_queues(redis):
        ids.update(queue.get_job_ids())
        ids.update(ScheduledJobRegistry(queue=queue).get_job_ids(cleanup=False))
    return ids


def _failure_reason(job: Job) -> str:
    result = job.latest_result()
    lines = (result.exc_string or "").strip().splitlines() if result is not None else []
    return lines[-1][:500] if lines else "RQ marked it failed without giving a reason"


def _repair(settings: Settings, redis: Redis, row: SummaryJob, sighting: Sighting, report: Report) -> None:
    seen = sighting.seen
    if seen == Seen.waiting:
        return
    if seen in (Seen.finished, Seen.failed) and row.status == JobStatus.processing and _still_running(settings, sighting.job):
        # RQ keeps one status per job: a second run that was refused its start (a duplicate queue
        # entry) marks the job finished or failed while the first run still goes on. That run
        # ends the row itself; handing the job back now would run it twice.
        return
    if seen == Seen.unreadable:
        set_aside(settings, redis, row.job_id, queue_name(row.priority), sighting.reason)
        report.set_aside += 1
    elif seen in (Seen.missing, Seen.stranded, Seen.running):
        if row.status == JobStatus.queued and seen != Seen.running:
            if _hand_back(settings, redis, row, sighting, "Redis did not know it"):
                report.requeued += 1
        elif _abandoned(settings, redis, row, sighting):
            outcome = _hand_back(settings, redis, row, sighting, "its worker stopped sending heartbeats")
            if outcome == JobStatus.failed:
                report.abandoned += 1
            elif outcome:
                report.rerun += 1
    elif seen == Seen.finished:
        if _complete_from_summary(settings, redis, row) or _hand_back(
            settings, redis, row, sighting, "its run finished on RQ without recording a summary"
        ):
            report.aligned += 1
    elif seen == Seen.failed:
        # A run that failed on RQ while the row still says `processing` never reached its own
        # error handling (the work horse was killed): like an abandoned run, it may run again.
        # One that failed before the task began (row still `queued`) fails for the reason RQ gives.
        if row.status == JobStatus.processing:
            done = _hand_back(settings, redis, row, sighting, f"its run ended on RQ: {sighting.reason}")
        else:
            done = _end(settings, redis, row, JobStatus.failed, f"RQ could not run it: {sighting.reason}")
        if done:
            report.aligned += 1
    elif seen == Seen.stopped and _end(settings, redis, row, JobStatus.cancelled, sighting.reason):
        report.aligned += 1


def _still_running(settings: Settings, job: Job) -> bool:
    """Whether some run of the job still sends heartbeats (RQ keeps an `Execution` per run while it lasts)."""
    live_since = utcnow() - timedelta(seconds=settings.job_abandoned_after)
    for execution_id in job.execution_registry.get_execution_ids():
        try:
            if Execution.fetch(execution_id, job.id, job.connection).last_heartbeat >= live_since:
                return True
        except ValueError:
            continue  # it ended (and its hash went) while we looked
    return False


def _abandoned(settings: Settings, redis: Redis, row: SummaryJob, sighting: Sighting) -> bool:
    """Whether nothing has run this job for JOB_ABANDONED_AFTER seconds.

    The job's own heartbeat tells, while Redis has its hash. Once Redis lost the hash
    (FLUSHDB, restart), the heartbeat of the worker the row names stands in for it, and
    a run older than the job timeout allows has ended whatever that worker still does.
    """
    now = utcnow()
    signs = [row.started_at or row.created_at]
    if sighting.job is not None:
        signs.append(sighting.heartbeat)
    elif row.worker_name:
        worker = Worker.find_by_key(Worker.redis_worker_namespace_prefix + row.worker_name, connection=redis)
        if worker is not None:
            signs.append(worker.last_heartbeat)
    last = max(sign for sign in signs if sign is not None)
    outlived = signs[0] + timedelta(seconds=settings.job_timeout + HARD_KILL_GRACE + settings.job_abandoned_after)
    return now - last > timedelta(seconds=settings.job_abandoned_after) or now > outlived


def _hand_back(
    settings: Settings, redis: Redis, row: SummaryJob, sighting: Sighting, why: str
) -> JobStatus | None:
    with session_scope(settings.database_url) as session:
        return lifecycle.hand_back(session, redis, settings, row, why, sighting.job)


def _complete_from_summary(settings: Settings, redis: Redis, row: SummaryJob) -> bool:
    """Complete a row whose run finished on RQ, when that run's summary is in the database."""
    with session_scope(settings.database_url) as session:
        stored = stored_summary(
            session, row.evaluation_id, row.student_id, written_since=row.started_at or row.created_at
        )
        if stored is None:
            return False
        return lifecycle.complete_from_rq(session, redis, settings, row, stored) is not None


def _end(settings: Settings, redis: Redis, row: SummaryJob, status: JobStatus, reason: str) -> bool:
    with session_scope(settings.database_url) as session:
        return lifecycle.follow_rq(session, redis, settings, row, status, reason) is not None


def set_aside(settings: Settings, redis: Redis, job_id: str, queue_name: str, reason: str) -> None:
    """Move a job hash RQ cannot read out of the way, and fail the row it belongs to.

    The hash stays for inspection, in the failed registry of its queue with the reason,
    and leaves every queue list so no worker pops it again.
    """
    key = Job.key_for(job_id)
    registry = FailedJobRegistry(queue_name, connection=redis)
    is_hash = redis.type(key) == b"hash"
    with redis.pipeline() as pipeline:
        for queue in summary_queues(redis):
            pipeline.lrem(queue.key, 0, job_id)
        pipeline.zadd(registry.key, {job_id: current_timestamp() + lifecycle.FAILURE_TTL})
        if is_hash:
            pipeline.hset(key, mapping={"status": RQStatus.FAILED.value, "exc_info": f"unreadable job data: {reason}"})
            pipeline.expire(key, lifecycle.FAILURE_TTL)
        pipeline.execute()
    log.error("job %s: its data on Redis cannot be read (%s); moved to %s", job_id, reason, registry.key)
    with session_scope(settings.database_url) as session:
        lifecycle.set_aside(session, redis, settings, job_id, reason)


def recreate(settings: Settings, redis: Redis, job_id: str) -> bool:
    """Re-create a job whose queue entry pointed at a missing hash, if its row is still queued."""
    with session_scope(settings.database_url) as session:
        row = find(session, job_id)
        if row is None or row.status != JobStatus.queued:
            log.warning("job %s: queue entry without a job hash, and no queued row here; dropped", job_id)
            return False
        log.warning("job %s: its queue entry pointed at a missing job hash; re-created from the database", job_id)
        return lifecycle.put_on_queue(session, redis, settings, row)
