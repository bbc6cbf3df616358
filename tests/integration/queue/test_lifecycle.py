"""Job status transitions that must refuse: a second start of a job that is already running."""

from peerdigest.db.models import JobStatus, SummaryJob
from peerdigest.db.session import session_scope
from peerdigest.queue import lifecycle
from peerdigest.queue.jobs import find


def test_only_a_queued_job_can_be_started_and_a_second_start_is_refused(database_url):
    with session_scope(database_url) as session:
        session.add(SummaryJob(job_id="summary-56-19-aaaa", evaluation_id=56, student_id=19, max_retries=3))
    with session_scope(database_url) as session:
        assert lifecycle.start(session, "summary-56-19-aaaa", "worker-1") is not None

    with session_scope(database_url) as session:
        assert lifecycle.start(session, "summary-56-19-aaaa", "worker-2") is None, "already processing"
    with session_scope(database_url) as session:
        job = find(session, "summary-56-19-aaaa")
        assert (job.status, job.attempts, job.worker_name) == (JobStatus.processing, 1, "worker-1"), "untouched"
