"""Running due schedules against the real database and Redis."""

from datetime import timedelta

from sqlalchemy import select

from peerdigest.db.models import Allocation, ScheduledJob, SummaryJob, utcnow
from peerdigest.db.session import session_scope
from peerdigest.domain import schedules as scheduler
from peerdigest.queue import cron
from peerdigest.queue.queues import summary_queues


def _schedule(settings, **fields) -> int:
    with session_scope(settings.database_url) as session:
        schedule = scheduler.create(session, settings, school_id=1, evaluation_id=56, name="nightly",
                                    cron="0 2 * * *", enabled=True, created_by_id=1, **fields)
        schedule.next_run_at = utcnow() - timedelta(days=3)  # missed three nights while no scheduler ran
        session.commit()
        return schedule.id


def test_a_due_schedule_queues_every_student_once_and_waits_for_its_next_time(demo_school, redis):
    schedule_id = _schedule(demo_school, student_ids=None)
    now = utcnow()

    assert cron.run_due(demo_school, redis, now) == 1, "missed runs are not caught up one by one"
    assert cron.run_due(demo_school, redis, now) == 0, "a claimed run is not run again"

    with session_scope(demo_school.database_url) as session:
        jobs = list(session.scalars(select(SummaryJob)))
        schedule = session.get(ScheduledJob, schedule_id)
    assert sorted(j.student_id for j in jobs) == list(range(19, 27))
    assert {(j.priority, j.requested_by_id) for j in jobs} == {("low", 1)}
    assert schedule.last_run_at == now
    assert now < schedule.next_run_at <= now + timedelta(days=1)
    assert schedule.next_run_at.hour == 2
    assert len([i for q in summary_queues(redis) for i in q.get_job_ids()]) == 8


def test_a_student_who_left_the_evaluation_is_skipped(demo_school, redis):
    _schedule(demo_school, student_ids=[19, 20])
    with session_scope(demo_school.database_url) as session:
        for allocation in session.scalars(select(Allocation).where(Allocation.reviewee_id == 20)):
            session.delete(allocation)

    assert cron.run_due(demo_school, redis) == 1
    with session_scope(demo_school.database_url) as session:
        assert [j.student_id for j in session.scalars(select(SummaryJob))] == [19]


def test_a_disabled_schedule_does_not_run(demo_school, redis):
    schedule_id = _schedule(demo_school, student_ids=None)
    with session_scope(demo_school.database_url) as session:
        session.get(ScheduledJob, schedule_id).enabled = False
    assert cron.run_due(demo_school, redis) == 0
