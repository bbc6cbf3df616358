"""The job rows: every change of a job moves its `updated_at`, which `jobs?since=` relies on."""

from datetime import datetime, timezone

from peerdigest.db.models import Evaluation, JobStatus, SummaryJob
from peerdigest.db.session import session_scope
from peerdigest.queue import lifecycle
from peerdigest.queue.jobs import find, find_with_evaluation
from tests.support.statements import counted_statements

LONG_AGO = datetime(2020, 1, 1, tzinfo=timezone.utc)


def _job_last_changed_long_ago(url: str) -> None:
    with session_scope(url) as session:
        session.add(SummaryJob(job_id="summary-56-19-aaaa", evaluation_id=56, student_id=19, updated_at=LONG_AGO))


def test_a_status_change_through_the_lifecycle_moves_updated_at(database_url):
    _job_last_changed_long_ago(database_url)
    with session_scope(database_url) as session:
        lifecycle.start(session, "summary-56-19-aaaa", "worker-1")
    with session_scope(database_url) as session:
        job = find(session, "summary-56-19-aaaa")
        assert job.status == JobStatus.processing
        assert job.updated_at > LONG_AGO


def test_a_progress_update_moves_updated_at(database_url):
    _job_last_changed_long_ago(database_url)
    with session_scope(database_url) as session:
        find(session, "summary-56-19-aaaa").progress = 50
    with session_scope(database_url) as session:
        assert find(session, "summary-56-19-aaaa").updated_at > LONG_AGO


def test_a_new_job_starts_with_updated_at_set(database_url):
    with session_scope(database_url) as session:
        session.add(SummaryJob(job_id="summary-56-19-bbbb", evaluation_id=56, student_id=19))
    with session_scope(database_url) as session:
        job = find(session, "summary-56-19-bbbb")
        assert job.updated_at >= job.created_at


def test_a_job_is_found_with_its_evaluation_in_one_statement(demo_school):
    with session_scope(demo_school.database_url) as session:
        session.add(SummaryJob(job_id="summary-56-19-cccc", evaluation_id=56, student_id=19))
    with counted_statements(demo_school.database_url) as statements, session_scope(demo_school.database_url) as session:
        job, evaluation = find_with_evaluation(session, "summary-56-19-cccc")
        # What the API's access check does next: the evaluation is already in the session.
        assert session.get(Evaluation, job.evaluation_id) is evaluation
    assert (job.student_id, evaluation.id) == (19, 56)
    assert len(statements) == 1


def test_an_unknown_job_is_not_found_with_its_evaluation_either(demo_school):
    with session_scope(demo_school.database_url) as session:
        assert find_with_evaluation(session, "summary-56-19-none") is None
