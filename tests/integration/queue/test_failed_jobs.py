"""An operator deals with a failed job: retry it (a new job like it) or discard it; either way it leaves the list."""

import pytest
from rq.job import Job
from rq.registry import FailedJobRegistry

from peerdigest.db.models import JobStatus, School
from peerdigest.db.session import session_scope
from peerdigest.queue import failed_jobs
from peerdigest.queue.enqueue import request_summary
from peerdigest.queue.queues import summary_queues
from peerdigest.queue.jobs import find
from tests.support.feedback import failed_job

DEMO_SCHOOL = 1


@pytest.fixture
def failed(demo_school, redis):
    with session_scope(demo_school.database_url) as session:
        job_id = failed_job(session, redis, demo_school, 56, 19).job_id
        failed_job(session, redis, demo_school, 57, 20, error_message="evaluation 57 changed")
    # RQ's own record of the failure, as a worker leaves it
    queue = summary_queues(redis)[1]
    Job.create("peerdigest.queue.tasks.generate_summary", args=(job_id, 56, 19), id=job_id, connection=redis).save()
    FailedJobRegistry(queue=queue).add(Job.fetch(job_id, connection=redis), ttl=3600)
    return job_id


def waiting_ids(settings, school_id=DEMO_SCHOOL):
    with session_scope(settings.database_url) as session:
        return [job.job_id for job in failed_jobs.waiting(session, school_id)]


def test_retry_queues_a_new_job_like_it_and_takes_the_failed_one_off_the_list(demo_school, redis, failed):
    assert failed in waiting_ids(demo_school) and len(waiting_ids(demo_school)) == 2
    with session_scope(demo_school.database_url) as session:
        accepted = failed_jobs.retry(session, redis, demo_school, failed, DEMO_SCHOOL, by_id=2)
        new_id = accepted.job.job_id
    assert new_id != failed and failed not in waiting_ids(demo_school) and len(waiting_ids(demo_school)) == 1
    with session_scope(demo_school.database_url) as session:
        old, new = find(session, failed), find(session, new_id)
        assert (old.status, old.dismissed_by_id, old.dismissed_at is not None) == (JobStatus.failed, 2, True)
        assert (new.evaluation_id, new.student_id, new.status) == (56, 19, JobStatus.queued)
    assert failed not in FailedJobRegistry(queue=summary_queues(redis)[1]).get_job_ids()
    assert not redis.exists(Job.key_for(failed))


def test_discard_takes_it_off_the_list_and_keeps_the_history(demo_school, redis, failed):
    with session_scope(demo_school.database_url) as session:
        failed_jobs.discard(session, redis, failed, DEMO_SCHOOL, by_id=2)
    assert failed not in waiting_ids(demo_school)
    with session_scope(demo_school.database_url) as session:
        assert find(session, failed).status == JobStatus.failed
    assert failed not in FailedJobRegistry(queue=summary_queues(redis)[1]).get_job_ids()


def test_a_job_dealt_with_already_or_of_another_school_or_not_failed_is_refused_in_words(demo_school, redis, failed):
    with session_scope(demo_school.database_url) as session:
        failed_jobs.discard(session, redis, failed, DEMO_SCHOOL, by_id=2)
        with pytest.raises(failed_jobs.NotFailed, match="retried or discarded already"):
            failed_jobs.retry(session, redis, demo_school, failed, DEMO_SCHOOL, by_id=2)
        other = School(name="Andere School")
        session.add(other)
        session.flush()
        other_school = other.id
        remaining = waiting_ids(demo_school)[0]
    with session_scope(demo_school.database_url) as session:
        with pytest.raises(failed_jobs.NotFailed, match="No job"):
            failed_jobs.discard(session, redis, remaining, other_school, by_id=2)
        assert waiting_ids(demo_school, other_school) == []
        still_open = request_summary(session, redis, demo_school, evaluation_id=56, student_id=21, requested_by_id=2)
        with pytest.raises(failed_jobs.NotFailed, match="is queued, not failed"):
            failed_jobs.discard(session, redis, still_open.job.job_id, DEMO_SCHOOL, by_id=2)
