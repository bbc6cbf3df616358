"""Queuing a class: one transaction for the rows and one Redis round trip for the ids, whatever its size."""

from redis import Redis
from redis.connection import Connection
from rq import Queue
from sqlalchemy import event, select

from peerdigest.db.models import JobStatus, SummaryJob
from peerdigest.db.session import engine_for, session_scope
from peerdigest.queue.enqueue import new_job_id, request_summaries
from peerdigest.queue.queues import QUEUE_NAMES


class CountingConnection(Connection):
    """A Redis connection that counts what it sends: one call per command, or per pipeline."""

    sent = 0

    def send_packed_command(self, command, check_health=True):
        CountingConnection.sent += 1
        super().send_packed_command(command, check_health)


def _queue_counting(settings, redis: Redis, student_ids: list[int]) -> tuple[int, int]:
    """Queue `student_ids` of evaluation 56; the database commits and Redis sends that took."""
    commits = []
    engine = engine_for(settings.database_url)
    listener = lambda connection: commits.append(connection)  # noqa: E731
    event.listen(engine, "commit", listener)
    CountingConnection.sent = 0
    try:
        with session_scope(settings.database_url) as session:
            accepted = request_summaries(
                session, redis, settings, evaluation_id=56, student_ids=student_ids, requested_by_id=None
            )
    finally:
        event.remove(engine, "commit", listener)
    assert [a.job.student_id for a in accepted] == student_ids and all(a.created for a in accepted)
    return len(commits), CountingConnection.sent


def test_queuing_a_class_costs_the_same_round_trips_as_queuing_two(demo_school, redis_url):
    redis = Redis.from_url(redis_url, connection_class=CountingConnection)
    _queue_counting(demo_school, redis, [19])  # the first use of a client asks Redis for its version once

    two = _queue_counting(demo_school, redis, [20, 21])
    six = _queue_counting(demo_school, redis, [22, 23, 24, 25, 26])

    assert six == two
    assert two[1] == 1, "every id goes onto Redis in one pipeline"
    assert Queue(QUEUE_NAMES["normal"], connection=redis).count == 8
    with session_scope(demo_school.database_url) as session:
        jobs = session.scalars(select(SummaryJob)).all()
    assert len(jobs) == 8
    assert all(job.status == JobStatus.queued and job.enqueued_at is not None for job in jobs)


def test_a_student_whose_job_was_opened_meanwhile_gets_that_job_back(demo_school, redis):
    raced = []
    with session_scope(demo_school.database_url) as session:

        @event.listens_for(session, "before_flush")
        def another_request_wins(session, *_):
            # Between reading the open jobs and writing the new rows, another request opens one for student 20.
            if raced:
                return
            raced.append(True)
            with session_scope(demo_school.database_url) as other:
                other.add(
                    SummaryJob(
                        job_id=new_job_id(56, 20), evaluation_id=56, student_id=20, status=JobStatus.queued,
                        open_key=SummaryJob.open_key_for(56, 20),
                    )
                )

        accepted = request_summaries(
            session, redis, demo_school, evaluation_id=56, student_ids=[19, 20, 21], requested_by_id=None
        )

    assert [(a.job.student_id, a.created) for a in accepted] == [(19, True), (20, False), (21, True)]
    with session_scope(demo_school.database_url) as session:
        open_jobs = session.scalars(select(SummaryJob).where(SummaryJob.open_key.is_not(None))).all()
    assert sorted(job.student_id for job in open_jobs) == [19, 20, 21]
    assert Queue(QUEUE_NAMES["normal"], connection=redis).count == 2
