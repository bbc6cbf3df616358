"""Cron schedules: check and keep them, find the due ones, and claim a run.

Running them is `queue.cron`: `peerdigest scheduler` queues the summaries of
each due schedule it could claim, like any other request.

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
accepting a request records the jobs and the reconciler queues them later. The
price: a scheduler that dies between its claim and its queuing skips that one
run; the next run is queued as usual.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from croniter import croniter
from croniter.croniter import CroniterBadDateError, CroniterError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from peerdigest.config import Settings
from peerdigest.db.models import Priority, ScheduledJob, utcnow
from peerdigest.domain.feedback import evaluation_students

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
    session.flush()
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
    session.flush()
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
    The caller commits the claim before it queues anything, so a failed queuing never undoes it.
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
    return claimed.rowcount == 1
