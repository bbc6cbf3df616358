"""What happens on its own around an evaluation's deadline: the reminder N hours before, and the summaries at close.

`queue/cron.py` (the scheduler) asks for the due ones on every pass and acts
on each it could claim. A claim is a compare-and-set on the evaluation's row
(`reminded_at`, `close_queued_at`: `UPDATE ... WHERE id = ? AND <column> IS NULL`),
the same way `domain/schedules.py` claims a run: with several schedulers, or a
scheduler restarted halfway, only the first claim changes the row, so each
happens once. The caller commits the claim with what it writes (the reminder
mail) or before it queues anything (the summaries), so a failed queuing never
makes it happen twice; the reconciler queues jobs whose rows Redis never saw.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from peerdigest.db.models import Evaluation, utcnow


def reminders_due(session: Session, now: datetime) -> list[Evaluation]:
    """Open evaluations whose reminder time has come and whose reminder has not gone yet."""
    candidates = session.scalars(
        select(Evaluation).where(
            Evaluation.remind_hours_before.is_not(None),
            Evaluation.reminded_at.is_(None),
            Evaluation.deadline > now,
            Evaluation.archived_at.is_(None),
        )
    ).all()
    return [e for e in candidates if reminder_hours_start(e) <= now]


def reminder_hours_start(evaluation: Evaluation) -> datetime | None:
    """When the evaluation's reminder hours begin (its deadline less `remind_hours_before`); None without either.

    A reminder a teacher sent by hand from then on stands for the automatic one: the automatic
    one skips whoever got a reminder since (`mail.reminders(..., not_reminded_since=...)`).
    """
    if evaluation.deadline is None or evaluation.remind_hours_before is None:
        return None
    return evaluation.deadline - timedelta(hours=evaluation.remind_hours_before)


def claim_reminder(session: Session, evaluation: Evaluation, now: datetime) -> bool:
    """Take the evaluation's automatic reminder for this process; False when it was taken already."""
    return _claim(session, evaluation, Evaluation.reminded_at, now)


def closed_unqueued(session: Session, now: datetime) -> list[Evaluation]:
    """Evaluations whose deadline has passed and whose summaries were not queued at close yet."""
    return list(
        session.scalars(
            select(Evaluation)
            .where(Evaluation.deadline <= now, Evaluation.close_queued_at.is_(None), Evaluation.archived_at.is_(None))
            .order_by(Evaluation.deadline, Evaluation.id)
        )
    )


def claim_close(session: Session, evaluation: Evaluation, now: datetime) -> bool:
    """Take the queuing of the evaluation's summaries at close for this process; False when it was taken already."""
    return _claim(session, evaluation, Evaluation.close_queued_at, now)


def _claim(session: Session, evaluation: Evaluation, column, now: datetime) -> bool:
    claimed = session.execute(
        update(Evaluation)
        .where(Evaluation.id == evaluation.id, column.is_(None))
        .values({column.key: now})
        .execution_options(synchronize_session=False)
    )
    return claimed.rowcount == 1


def deadline_moved(evaluation: Evaluation, now: datetime | None = None) -> None:
    """The deadline was changed: a deadline still ahead gets its reminder and its close again.

    A class given two more days after the reminder went (or after it closed) is
    reminded before the new deadline and summarized after it, with what it handed in meanwhile.
    """
    if evaluation.deadline is None or evaluation.deadline > (now or utcnow()):
        evaluation.reminded_at = None
        evaluation.close_queued_at = None
