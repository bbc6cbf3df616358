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
  writing its row, e.g. a work horse killed hard): the row follows RQ, except
  that a run RQ lost rather than saw fail (its horse died, or its heartbeats
  stopped) is handed back, never failed: in a Redis failover a horse dies as
  it records a retry, and the job is no worse for it;
- a job hash RQ cannot read: moved aside to the failed registry with the
  reason, and its row fails (`set_aside`). Workers do the same when they pop
  one (see queue.worker.SummaryQueue), so bad data never stops a worker;
- a queue entry that is not a job id at all: moved to the quarantine
  (`queue.quarantine`) before anything reads the queues;
- a queue entry whose job hash is gone: dropped (a job whose row is still
  queued is then re-created from its row, as above); one whose hash RQ cannot
  read is set aside, whatever its row says (`stray_entries`);
- a retry that is due while no RQ scheduler is alive to queue it: queued
  (`queue.due_retries`);
- an ended job RQ still lists as running (its run ended while Redis was away,
  so RQ never heard of the end, and would later call it abandoned and failed),
  or a completed job RQ lists as failed: filed in the registry its row says,
  finished, failed or cancelled (`misfiled`), so `queues stats` counts what
  the database says;
- an LLM slot whose job is no longer `processing` (it ended while Redis was
  away and could not release it, or its run was lost and handed back in this
  same pass): freed (`slots_held`, `queue.llm_slots`).

What differs is found by functions the doctor calls too (`survey`,
`stray_entries`, `misfiled`, `slots_held`), and repaired only here.

Passes are safe from several processes at once: a Redis lock makes them take
turns, and every row change is a `lifecycle` transition, a compare-and-set on
the status the pass saw, so a worker or a cancel that moved the job meanwhile wins.
The lock names its process, so a turn that an append-only Redis brought back
after its pass lost Redis does not hold up every pass until it expires.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import psutil
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.executions import Execution
from rq.job import Job
from rq.job import JobStatus as RQStatus
from rq.registry import (
    CanceledJobRegistry,
    FailedJobRegistry,
    FinishedJobRegistry,
    ScheduledJobRegistry,
    StartedJobRegistry,
)
from rq.utils import current_timestamp
from rq.worker import Worker
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from peerdigest.config import Settings
from peerdigest.db.models import JobStatus, SummaryJob, utcnow
from peerdigest.db.session import session_scope
from peerdigest.domain.summaries import stored_summary
from peerdigest.queue import due_retries, lifecycle, llm_slots, quarantine, repairs
from peerdigest.queue.connection import ensure_binary_safe
from peerdigest.queue.jobs import find, statuses
from peerdigest.queue.queues import all_queues, queue_name, summary_queues

log = logging.getLogger(__name__)

LOCK_KEY = "peerdigest:reconcile"
LOCK_TTL = 120  # seconds; a pass that dies holding the lock holds up the next ones this long at most
# KEYS[1]: the lock; ARGV[1]: the holder seen. Deleted only if nobody took it since.
_DELETE_IF_HELD_BY = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""
# Held while this process runs a pass: so a turn on Redis naming this process, seen while
# holding this, is one an earlier pass could not let go of.
_in_pass = threading.Lock()
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
    dropped: int = 0  # queue entries whose job hash was gone, removed
    refiled: int = 0  # ended jobs RQ listed as running or failed, filed where their row says
    reclaimed: int = 0  # LLM slots held by jobs no longer running, freed
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
    with _in_pass:
        turn = redis.lock(LOCK_KEY, timeout=LOCK_TTL)
        token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex}"
        if not turn.acquire(blocking=False, token=token):
            _free_orphaned_turn(redis)
            if not turn.acquire(blocking=wait > 0, blocking_timeout=wait or None, token=token):
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
                pass  # expired, or Redis gone (should it come back with the turn, `_free_orphaned_turn`)


def reconcile_job(settings: Settings, redis: Redis, job_id: str) -> Report:
    """One open job's repair, now rather than at the next pass: for a worker that just saw the job's
    run end without an outcome (its work horse died, and RQ filed the job as failed).

    No turn is taken: like every repair of a pass, it is a compare-and-set on the row as seen
    here, so a pass repairing the same job at the same moment finds it changed and leaves it.
    """
    report = Report()
    with session_scope(settings.database_url) as session:
        row = find(session, job_id)
    if row is None or row.status not in JobStatus.open():
        return report
    report.checked = 1
    _repair(settings, redis, row, look(redis, job_id, _waiting_ids(redis)), report)
    repairs.add(redis, report.counts())
    return report


def _free_orphaned_turn(redis: Redis) -> None:
    """Free the turn of a pass that can no longer let go of it: one of this process (which is in no
    other pass now) that lost Redis, or one whose process on this machine has ended.

    An append-only Redis brings such a turn back after a restart, and every pass would skip
    for up to LOCK_TTL. A turn of a process on another machine ends with its TTL.
    """
    holder = redis.get(LOCK_KEY)
    if holder is None:
        return
    host, pid, _ = ["", "", "", *holder.decode(errors="replace").rsplit(":", 2)][-3:]
    if host != socket.gethostname() or not pid.isdigit():
        return
    if int(pid) != os.getpid() and psutil.pid_exists(int(pid)):
        return
    if redis.register_script(_DELETE_IF_HELD_BY)(keys=[LOCK_KEY], args=[holder]):
        log.warning("reconciler: freed the turn a pass of process %s left behind when it lost Redis or ended", pid)


def _pass(settings: Settings, redis: Redis) -> Report:
    report = Report()
    queues = all_queues(redis)
    report.quarantined = quarantine.sweep(redis, queues)
    report.promoted = len(due_retries.promote(redis, queues))
    report.announced = _announce_pending(settings, redis)
    sightings = survey(settings, redis)
    report.checked = len(sightings)
    # Before the repairs: a job re-created from its row must not find its dangling entry still queued.
    for stray in stray_entries(redis, {row.job_id for row, _ in sightings}):
        if stray.reason:
            set_aside(settings, redis, stray.job_id, stray.queue, stray.reason)
            report.set_aside += 1
        elif _drop_dangling(redis, stray):
            report.dropped += 1
    for row, sighting in sightings:
        _repair_one(settings, redis, row, sighting, report)
    for entry in misfiled(settings, redis):
        refile(redis, entry)
        report.refiled += 1
    # Last, so a run handed back above frees its slot in this same pass.
    for slot, status in slots_held(settings, redis):
        if not runs(settings, redis, slot.job_id, status) and llm_slots.free(redis, slot):
            log.warning(
                "job %s: its LLM slot was still held (%.0f s) while the job is %s; freed",
                slot.job_id, slot.held_for, status or "unknown here",
            )
            report.reclaimed += 1
    if report.repairs:
        log.info("reconciler: %s", ", ".join(f"{n} {k}" for k, n in report.counts().items() if n))
    return report


def survey(settings: Settings, redis: Redis) -> list[tuple[SummaryJob, Sighting]]:
    """Every open job, with where Redis has it.

    A job that looks lost is looked at again SECOND_LOOK later: a worker may have
    been between popping it and marking it started, or a request between its row
    and its queue entry.
    """
    with session_scope(settings.database_url) as session:
        rows = list(session.scalars(select(SummaryJob).where(SummaryJob.status.in_(JobStatus.open()))))
    waiting = _waiting_ids(redis)
    sightings = [(row, look(redis, row.job_id, waiting)) for row in rows]
    if any(sighting.seen in (Seen.missing, Seen.stranded) for _, sighting in sightings):
        time.sleep(SECOND_LOOK)
        waiting = _waiting_ids(redis)
        sightings = [
            (row, look(redis, row.job_id, waiting) if sighting.seen in (Seen.missing, Seen.stranded) else sighting)
            for row, sighting in sightings
        ]
    return sightings


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
    return f"{type(exc).__name__}: {str(exc) or exc.__cause__}"[:500]


@dataclass(frozen=True)
class Stray:
    """A queue entry that no open job accounts for: its hash is gone, or unreadable."""

    queue: str
    job_id: str
    reason: str = ""  # why RQ cannot read its hash; empty when the hash is gone


# KEYS[1]: a queue, KEYS[2]: the hash of the job ARGV[1]. Atomic, so an entry queued again
# with its hash (in one transaction, as RQ's enqueue writes them) is never taken for a dangling one.
_DROP_DANGLING = """
if redis.call('EXISTS', KEYS[2]) == 0 then
    return redis.call('LREM', KEYS[1], 0, ARGV[1])
end
return 0
"""


def stray_entries(redis: Redis, open_ids: set[str]) -> list[Stray]:
    """Queue entries whose job hash is gone, and those of jobs not open here whose hash RQ cannot read.

    An open job's unreadable hash is found by `survey`. Entries that are not job ids
    at all are the quarantine's (`queue.quarantine`), and skipped here.
    """
    found = []
    for queue in summary_queues(redis):
        ids = list(dict.fromkeys(raw.decode() for raw in redis.lrange(queue.key, 0, -1) if quarantine.is_job_id(raw)))
        with redis.pipeline(transaction=False) as pipeline:
            for job_id in ids:
                pipeline.exists(Job.key_for(job_id))
            exists = pipeline.execute()
        for job_id, there in zip(ids, exists):
            if not there:
                found.append(Stray(queue.name, job_id))
            elif job_id not in open_ids and (sighting := look(redis, job_id, set())).seen == Seen.unreadable:
                found.append(Stray(queue.name, job_id, sighting.reason))
    return found


def _drop_dangling(redis: Redis, stray: Stray) -> bool:
    drop = redis.register_script(_DROP_DANGLING)
    if not drop(keys=[Queue(stray.queue, connection=redis).key, Job.key_for(stray.job_id)], args=[stray.job_id]):
        return False
    log.warning("job %s: its entry on %s pointed at no job hash; dropped", stray.job_id, stray.queue)
    return True


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


# How RQ words the end of a run it lost, rather than one whose task raised: its worker found the
# work horse dead (`Worker.monitor_work_horse`: killed, or exited because RQ's own bookkeeping lost
# Redis), or its clean-up found the run's heartbeats gone (`StartedJobRegistry.cleanup`).
_LOST_RUN = ("Work-horse terminated unexpectedly", "AbandonedJobError")


def _run_lost(reason: str) -> bool:
    """Whether RQ failed a job because it lost the run (see `_LOST_RUN`), which says nothing about the job."""
    return any(words in reason for words in _LOST_RUN)


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
        # So does a `queued` job whose run RQ lost rather than saw fail (`_run_lost`): Redis failed
        # over while its horse recorded a retry the row already holds, or before its task began,
        # and RQ filed the dead horse as a failure. Handing it back counts no attempt: a run that
        # began counted its own. One RQ failed for a reason of its own before the task began
        # (an import error) fails for the reason RQ gives.
        if row.status == JobStatus.processing or _run_lost(sighting.reason):
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


@dataclass(frozen=True)
class Misfiled:
    """An ended job that RQ files elsewhere than its row says."""

    job: Job
    status: JobStatus  # its row's
    listed: str  # where RQ lists it: "started" or "failed"
    execution_id: str | None = None  # the run RQ still lists as started


# Where RQ keeps a job that ended as its row says: its status on RQ, its registry, and for how long.
_FILING = {
    JobStatus.completed: (RQStatus.FINISHED, FinishedJobRegistry, lifecycle.RESULT_TTL),
    JobStatus.failed: (RQStatus.FAILED, FailedJobRegistry, lifecycle.FAILURE_TTL),
    JobStatus.cancelled: (RQStatus.CANCELED, CanceledJobRegistry, lifecycle.FAILURE_TTL),
}


def misfiled(settings: Settings, redis: Redis) -> list[Misfiled]:
    """Ended jobs RQ still lists as running though no run of theirs beats, and completed jobs RQ lists as failed.

    A run that ended while Redis was away (its row written, RQ never told) stays in
    RQ's started registry; once its execution expires RQ calls it abandoned and fails
    it, and `queues stats` would count a completed job as failed.
    """
    listed: list[tuple[str, str, str | None]] = []  # (where, job id, execution id)
    for queue in summary_queues(redis):
        started = StartedJobRegistry(queue=queue).get_job_and_execution_ids(cleanup=False)  # no clean-up: it fails them
        listed += [("started", job_id, execution_id) for job_id, execution_id in started]
        listed += [("failed", job_id, None) for job_id in FailedJobRegistry(queue=queue).get_job_ids()]
    if not listed:
        return []
    with session_scope(settings.database_url) as session:
        found = statuses(session, [job_id for _, job_id, _ in listed])
    wrong = []
    for where, job_id, execution_id in listed:
        status = found.get(job_id)
        if status in (None, *JobStatus.open()) or (where == "failed" and status != JobStatus.completed):
            continue
        sighting = look(redis, job_id, set())
        if sighting.job is None or (where == "started" and _still_running(settings, sighting.job)):
            continue  # gone or unreadable; or its worker has yet to record the end, and will
        wrong.append(Misfiled(sighting.job, status, where, execution_id))
    return wrong


def refile(redis: Redis, entry: Misfiled) -> None:
    """File an ended job on RQ as its row says, and nowhere else; its run, if listed, ends there too."""
    rq_status, registry, ttl = _FILING[entry.status]
    job = entry.job
    with redis.pipeline() as pipeline:
        if entry.execution_id:
            Execution(entry.execution_id, job.id, connection=redis).delete(job=job, pipeline=pipeline)
        for _, other, _ in _FILING.values():
            pipeline.zrem(other(job.origin, connection=redis).key, job.id)
        pipeline.zadd(registry(job.origin, connection=redis).key, {job.id: current_timestamp() + ttl})
        job.set_status(rq_status, pipeline=pipeline)
        pipeline.expire(job.key, ttl)
        pipeline.execute()
    # Worded so that no line says "job …: completed", which only the job's own end says.
    log.warning("job %s: RQ listed it as %s, but it is %s here; filed as %s", job.id, entry.listed, entry.status, rq_status)


def slots_held(settings: Settings, redis: Redis) -> list[tuple[llm_slots.Slot, JobStatus | None]]:
    """Every held LLM slot, with its job's status here (None: no such job)."""
    slots = llm_slots.held(redis, settings)
    if not slots:
        return []
    with session_scope(settings.database_url) as session:
        found = statuses(session, [slot.job_id for slot in slots])
    return [(slot, found.get(slot.job_id)) for slot in slots]


def runs(settings: Settings, redis: Redis, job_id: str, status: JobStatus | None) -> bool:
    """Whether a run of the job may still be in its LLM call, so its slot is still its own.

    Only a `processing` job runs: every other status is written after its run let go of
    the slot (or failed to, Redis being away), or after the reconciler judged the run
    lost. A cancel is the one end written while the run goes on, until its work horse is
    stopped; so a cancelled job's slot stays while a run of it still beats.
    """
    if status == JobStatus.processing:
        return True
    if status != JobStatus.cancelled:
        return False
    sighting = look(redis, job_id, set())
    return sighting.job is not None and _still_running(settings, sighting.job)


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
