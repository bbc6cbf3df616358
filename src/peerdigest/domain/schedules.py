"""Cron schedules: check and keep them, and run the due ones by queuing their summaries.

`peerdigest scheduler` runs `serve`: every SCHEDULER_INTERVAL seconds it
queues the summaries of each schedule that is due (through
`queue.enqueue.request_summary`, like any other request), and every
RECONCILE_INTERVAL seconds it runs the reconciler that brings Redis in line
with the database.

Why not RQ's CronScheduler (`rq.cron`): it loads its jobs from a file when it
starts and keeps them in its own memory, and two of them running at once both
enqueue every run. Our schedules are rows that teachers change through the API
while the scheduler runs, and operators may run a second scheduler so one can
fail; so the loop is ours, and the queuing is the product's own.

Exactly once with several schedulers: a run is claimed by a compare-and-set on
its row, `UPDATE ... SET next_run_at = <following run>, last_run_at = now
WHERE id = ? AND next_run_at = <the due time this scheduler saw>`. The
database applies the two updates one after the other; only the first still
matches and changes a row, the other changes none and skips the run. We chose
this over a Redis lock or lease because the claim and its record (last and
next run) are one atomic write in the database of record; there is no lease
length to guess (a lease that runs out while a slow scheduler is still queuing
lets a second one in); and it keeps working while Redis is away, since
`request_summary` records the jobs and the reconciler queues them later. The
price: a scheduler that dies between its claim and its queuing skips that one
run; the next run is queued as usual.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from croniter import croniter
from croniter.croniter import CroniterBadDateError, CroniterError
from redis import Redis
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from peerdigest.config import Settings
from peerdigest.db.models import Priority, ScheduledJob, utcnow
from peerdigest.db.session import session_scope
from peerdigest.domain.feedback import evaluation_students
from peerdigest.queue.enqueue import request_summary

log = logging.getLogger(__name__)

# Scheduled runs are background work: anything a person asks for right now goes first.
PRIORITY = Priority.low
# A cron expression must match a time within this many years (29 February: every four).
HORIZON_YEARS = 5


class ScheduleError(ValueError):
    """A schedule that cannot be kept as asked; the message says why."""


# --- Cron expressions -------------------------------------------------------------


def validate_cron(cron: str) -> str:
    """The expression, trimmed, if it is a five-field cron expression (or @hourly, @daily, ...)."""
    expression = " ".join(cron.split())
    if not expression.startswith("@") and len(expression.split()) != 5:
        raise ScheduleError(
            f"Invalid cron expression {cron!r}: it needs five fields (minute hour day-of-month month day-of-week), "
            "for example '0 8 * * mon' for Mondays at 08:00."
        )
    try:
        _following(expression, utcnow())
    except CroniterBadDateError:
        raise ScheduleError(
            f"Cron expression {cron!r} never runs: no time in the next {HORIZON_YEARS} years matches it "
            "(February has no 30th or 31st)."
        ) from None
    except (CroniterError, ValueError) as exc:
        raise ScheduleError(f"Invalid cron expression {cron!r}: {exc}") from None
    return expression


def _following(cron: str, after: datetime) -> datetime:
    # croniter searches decades for a date like 30 February before giving up; a schedule
    # that would first run years from now is a mistake, so the search stops at the horizon.
    return croniter(cron, after, max_years_between_matches=HORIZON_YEARS).get_next(datetime)


def next_run(cron: str, after: datetime, settings: Settings) -> datetime:
    """The first time after `after` the expression matches, read in SCHEDULE_TIMEZONE; returned in UTC."""
    following = _following(cron, after.astimezone(ZoneInfo(settings.schedule_timezone)))
    return following.astimezone(ZoneInfo("UTC"))


# --- Keeping schedules -------------------------------------------------------------


def check_students(session: Session, evaluation_id: int, student_ids: list[int] | None) -> list[int] | None:
    """The student ids without repeats, if all receive feedback in the evaluation; None means every student."""
    if student_ids is None:
        return None
    if not student_ids:
        raise ScheduleError("student_ids is empty: leave it out (or null) to summarize every student.")
    unique = list(dict.fromkeys(student_ids))
    members = set(evaluation_students(session, evaluation_id))
    strangers = [s for s in unique if s not in members]
    if strangers:
        raise ScheduleError(
            f"Student(s) {', '.join(map(str, strangers))} receive no feedback in evaluation {evaluation_id}."
        )
    return unique


def create(
    session: Session,
    settings: Settings,
    *,
    school_id: int,
    evaluation_id: int,
    name: str,
    cron: str,
    student_ids: list[int] | None,
    enabled: bool,
    created_by_id: int | None,
) -> ScheduledJob:
    cron = validate_cron(cron)
    schedule = ScheduledJob(
        name=name,
        cron=cron,
        school_id=school_id,
        evaluation_id=evaluation_id,
        student_ids=check_students(session, evaluation_id, student_ids),
        enabled=enabled,
        next_run_at=next_run(cron, utcnow(), settings) if enabled else None,
        created_by_id=created_by_id,
        created_at=utcnow(),
    )
    session.add(schedule)
    session.commit()
    return schedule


def change(session: Session, settings: Settings, schedule: ScheduledJob, changes: dict) -> ScheduledJob:
    """Apply the given fields; a new cron expression or a re-enabled schedule counts from now on."""
    if "cron" in changes:
        changes["cron"] = validate_cron(changes["cron"])
    evaluation_id = changes.get("evaluation_id", schedule.evaluation_id)
    if "student_ids" in changes or evaluation_id != schedule.evaluation_id:
        changes["student_ids"] = check_students(session, evaluation_id, changes.get("student_ids", schedule.student_ids))
    timing_changed = (
        changes.get("cron", schedule.cron) != schedule.cron
        or changes.get("enabled", schedule.enabled) != schedule.enabled
    )
    for field, value in changes.items():
        setattr(schedule, field, value)
    if timing_changed:
        # A disabled schedule has no next run; one enabled again starts from now, never catching up.
        schedule.next_run_at = next_run(schedule.cron, utcnow(), settings) if schedule.enabled else None
    session.commit()
    return schedule


# --- Running due schedules ------------------------------------------------------------


def due(session: Session, now: datetime) -> list[ScheduledJob]:
    return list(
        session.scalars(
            select(ScheduledJob)
            .where(ScheduledJob.enabled.is_(True), ScheduledJob.next_run_at <= now)
            .order_by(ScheduledJob.next_run_at, ScheduledJob.id)
        )
    )


def claim(session: Session, settings: Settings, schedule: ScheduledJob, now: datetime) -> bool:
    """Take this run of the schedule for this process; False when another scheduler took it first.

    Runs missed while no scheduler ran are not caught up one by one: the claim
    counts as the run for all of them, and the next one is the first after now.
    """
    claimed = session.execute(
        update(ScheduledJob)
        .where(
            ScheduledJob.id == schedule.id,
            ScheduledJob.enabled.is_(True),
            ScheduledJob.next_run_at == schedule.next_run_at,
        )
        .values(next_run_at=next_run(schedule.cron, now, settings), last_run_at=now)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return claimed.rowcount == 1


def run_due(settings: Settings, redis: Redis, now: datetime | None = None) -> int:
    """Queue the summaries of every due schedule this process could claim; returns how many runs it made."""
    now = now or utcnow()
    with session_scope(settings.database_url) as session:
        schedules = due(session, now)
    runs = 0
    for schedule in schedules:
        with session_scope(settings.database_url) as session:
            if not claim(session, settings, schedule, now):
                continue
            runs += 1
            _queue_run(session, redis, settings, schedule)
    return runs


def _queue_run(session: Session, redis: Redis, settings: Settings, schedule: ScheduledJob) -> None:
    members = evaluation_students(session, schedule.evaluation_id)
    wanted = schedule.student_ids if schedule.student_ids is not None else members
    created = existing = 0
    for student_id in wanted:
        if student_id not in members:
            log.warning("schedule %d: student %d no longer receives feedback in evaluation %d; skipped",
                        schedule.id, student_id, schedule.evaluation_id)
            continue
        accepted = request_summary(
            session,
            redis,
            settings,
            evaluation_id=schedule.evaluation_id,
            student_id=student_id,
            requested_by_id=schedule.created_by_id,
            priority=PRIORITY,
        )
        created += accepted.created
        existing += not accepted.created
    log.info("schedule %d %r ran: %d summaries queued, %d already queued (evaluation %d)",
             schedule.id, schedule.name, created, existing, schedule.evaluation_id)


# --- The scheduler process ----------------------------------------------------------


def serve(settings: Settings, redis: Redis, stop: threading.Event, reconcile: Callable[[], object]) -> None:
    """Run due schedules and `reconcile` on their intervals until `stop` is set.

    An error in one round (database or Redis away for a moment) is logged and
    the next round tries again: a scheduler that exits would silently stop every schedule.
    """
    log.info("scheduler started: schedules every %.1fs, reconciler every %.1fs",
             settings.scheduler_interval, settings.reconcile_interval)
    next_reconcile = time.monotonic()
    while not stop.is_set():
        _guarded("running due schedules", run_due, settings, redis)
        if time.monotonic() >= next_reconcile:
            _guarded("reconciling", reconcile)
            next_reconcile = time.monotonic() + settings.reconcile_interval
        stop.wait(settings.scheduler_interval)
    log.info("scheduler stopped")


def _guarded(what: str, action: Callable, *args) -> None:
    try:
        action(*args)
    except Exception:
        log.exception("scheduler: %s failed; trying again next round", what)
