"""The scheduler process: run the due cron schedules, the evaluations' deadlines, and the reconciler, on their intervals.

`peerdigest scheduler` runs `serve`: every SCHEDULER_INTERVAL seconds it
queues the summaries of each schedule that is due and that it could claim
(`domain.schedules` says why a claim runs a schedule exactly once, also with
several schedulers), writes the automatic reminders that are due, and queues
the summaries of every evaluation that has just closed (`domain.deadlines`,
claimed the same way); every RECONCILE_INTERVAL seconds it runs the
reconciler that brings Redis in line with the database, and queues again
any unsent mail whose job Redis lost (`queue.mail.queue_lost`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from functools import partial

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.orm import Session

from peerdigest.config import Settings
from peerdigest.db.models import Evaluation, ScheduledJob, utcnow
from peerdigest.db.session import after_commit, session_scope
from peerdigest.domain import deadlines, mail
from peerdigest.domain.schedules import PRIORITY, claim, due
from peerdigest.queue import mail as mail_queue
from peerdigest.queue.enqueue import request_class

log = logging.getLogger(__name__)


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
            session.commit()
            runs += 1
            _queue_run(session, redis, settings, schedule)
    return runs


def _queue_run(session: Session, redis: Redis, settings: Settings, schedule: ScheduledJob) -> None:
    queued = request_class(
        session,
        redis,
        settings,
        evaluation_id=schedule.evaluation_id,
        student_ids=schedule.student_ids,
        requested_by_id=schedule.created_by_id,
        priority=PRIORITY,
    )
    created = existing = 0
    for student_id, accepted in queued:
        if accepted is None:
            log.warning("schedule %d: student %d no longer receives feedback in evaluation %d; skipped",
                        schedule.id, student_id, schedule.evaluation_id)
            continue
        created += accepted.created
        existing += not accepted.created
    log.info("schedule %d %r ran: %d summaries queued, %d already queued (evaluation %d)",
             schedule.id, schedule.name, created, existing, schedule.evaluation_id)


def remind_due(settings: Settings, redis: Redis, now: datetime | None = None) -> int:
    """Write and queue the automatic reminder of every evaluation whose time for it has come; how many mails.

    Whoever a teacher reminded by hand within the reminder hours is not reminded again.
    """

    def remind(session: Session, evaluation: Evaluation) -> int:
        # The claim and the mails are one commit: a reminder is either wholly written or not at all.
        mails = mail.reminders(session, settings, evaluation, deadlines.reminder_hours_start(evaluation))
        after_commit(session, partial(mail_queue.announce, redis, settings, mails))
        log.info("evaluation %d: automatic reminder to %d reviewer(s) who have not submitted", evaluation.id, len(mails))
        return len(mails)

    return _claim_each(settings, now or utcnow(), deadlines.reminders_due, deadlines.claim_reminder, remind)


def close_due(settings: Settings, redis: Redis, now: datetime | None = None) -> int:
    """Queue the summaries of every evaluation whose deadline has passed, once each; how many evaluations."""

    def close(session: Session, evaluation: Evaluation) -> int:
        session.commit()  # before queuing, as a schedule's claim: a failed queuing never queues twice
        queued = request_class(
            session, redis, settings, evaluation_id=evaluation.id, student_ids=None,
            requested_by_id=None, priority=PRIORITY,
        )
        log.info("evaluation %d closed: %d summaries queued", evaluation.id,
                 sum(1 for _student, accepted in queued if accepted is not None and accepted.created))
        return 1

    return _claim_each(settings, now or utcnow(), deadlines.closed_unqueued, deadlines.claim_close, close)


def _claim_each(
    settings: Settings,
    now: datetime,
    due: Callable[[Session, datetime], list[Evaluation]],
    claim: Callable[[Session, Evaluation, datetime], bool],
    act: Callable[[Session, Evaluation], int],
) -> int:
    """`act` on each evaluation that is `due` and that this process could `claim`, each in a unit of work of its
    own; the sum of what `act` returns."""
    with session_scope(settings.database_url) as session:
        evaluation_ids = [evaluation.id for evaluation in due(session, now)]
    done = 0
    for evaluation_id in evaluation_ids:
        with session_scope(settings.database_url) as session:
            evaluation = session.get(Evaluation, evaluation_id)
            if evaluation is not None and claim(session, evaluation, now):
                done += act(session, evaluation)
    return done


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
        _guarded("sending due reminders", remind_due, settings, redis)
        _guarded("queuing the summaries of closed evaluations", close_due, settings, redis)
        if time.monotonic() >= next_reconcile:
            _guarded("reconciling", reconcile)
            _guarded("queuing lost mail", mail_queue.queue_lost, settings, redis)
            next_reconcile = time.monotonic() + settings.reconcile_interval
        stop.wait(settings.scheduler_interval)
    log.info("scheduler stopped")


def _guarded(what: str, action: Callable, *args) -> None:
    try:
        action(*args)
    except (RedisConnectionError, RedisTimeoutError) as exc:
        # Redis away is an outage, not a bug: one line, no traceback.
        log.warning("scheduler: %s failed, Redis is away (%s); trying again next round", what, exc)
    except Exception:
        log.exception("scheduler: %s failed; trying again next round", what)
