"""The feedback-summaries API: the contract existing clients use, and who may see what."""

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from peerdigest.db.models import SummaryJob
from peerdigest.db.session import session_scope
from peerdigest.queue.queues import summary_queues
from tests.support.api import PREFIX, STUDENT_19, TEACHER, api_client

LONG_AGO = datetime(2020, 1, 1, tzinfo=timezone.utc)


@pytest.fixture
def client(demo_school):
    return api_client(demo_school)


def test_queue_answers_at_once_with_the_job_and_puts_only_its_id_on_redis(client, demo_school, redis):
    response = client.post(f"{PREFIX}/evaluation/56/student/19/queue", headers=TEACHER)
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "queued"
    assert (body["evaluation_id"], body["student_id"]) == (56, 19)
    assert body["job_id"].startswith("summary-56-19-")
    assert body["created_at"]

    queued = [job_id for q in summary_queues(redis) for job_id in q.get_job_ids()]
    assert queued == [body["job_id"]]
    with session_scope(demo_school.database_url) as session:
        row = session.scalar(select(SummaryJob).where(SummaryJob.job_id == body["job_id"]))
        assert row.status == "queued" and row.enqueued_at is not None


def test_queuing_a_student_with_an_open_job_returns_that_job(client):
    first = client.post(f"{PREFIX}/evaluation/56/student/19/queue", headers=TEACHER).json()
    second = client.post(f"{PREFIX}/evaluation/56/student/19/queue", headers=TEACHER).json()
    assert second["job_id"] == first["job_id"]
    assert second["already_queued"] is True


def test_job_status_shows_progress_and_no_result_while_queued(client):
    job_id = client.post(f"{PREFIX}/evaluation/56/student/19/queue", headers=TEACHER).json()["job_id"]
    status = client.get(f"{PREFIX}/jobs/{job_id}/status", headers=TEACHER).json()
    assert status["status"] == "queued"
    assert status["progress"] == 0
    assert status["result"] is None and status["error_message"] is None
    assert status["started_at"] is None and status["completed_at"] is None


def test_stored_summary_404_says_how_to_queue_one(client):
    response = client.get(f"{PREFIX}/evaluation/56/student/19", headers=TEACHER)
    assert response.status_code == 404
    assert "/evaluation/56/student/19/queue" in response.json()["detail"]


def test_batch_queue_queues_every_student_and_reports_each(client):
    client.post(f"{PREFIX}/evaluation/56/student/19/queue", headers=TEACHER)
    body = client.post(f"{PREFIX}/evaluation/56/batch-queue", headers=TEACHER).json()
    assert body["total_students"] == 8
    assert (body["queued"], body["already_queued"], body["failed"]) == (7, 1, 0)
    assert {r["student_id"] for r in body["results"]} == set(range(19, 27))


def test_batch_queue_reports_students_outside_the_evaluation_as_failed(client):
    body = client.post(f"{PREFIX}/evaluation/56/batch-queue", json={"student_ids": [19, 1, 999]}, headers=TEACHER).json()
    assert (body["queued"], body["failed"]) == (1, 2)
    assert [r["status"] for r in body["results"]] == ["queued", "failed", "failed"]


def test_evaluation_jobs_can_be_filtered_by_status(client):
    client.post(f"{PREFIX}/evaluation/56/batch-queue", json={"student_ids": [19, 20]}, headers=TEACHER)
    listed = client.get(f"{PREFIX}/evaluation/56/jobs", params={"status": "queued"}, headers=TEACHER).json()
    assert listed["total"] == 2 and {j["student_id"] for j in listed["jobs"]} == {19, 20}
    assert client.get(f"{PREFIX}/evaluation/56/jobs", params={"status": "completed"}, headers=TEACHER).json()["total"] == 0
    assert client.get(f"{PREFIX}/evaluation/56/jobs", params={"status": "bogus"}, headers=TEACHER).status_code == 422


@pytest.mark.parametrize("headers", [{}, {"X-User-Email": "nobody@example.com"}])
def test_unknown_or_missing_user_is_401(client, headers):
    response = client.post(f"{PREFIX}/evaluation/56/student/19/queue", headers=headers)
    assert response.status_code == 401
    assert response.json()["detail"]


def test_a_student_may_queue_and_follow_only_their_own_summary(client):
    own = client.post(f"{PREFIX}/evaluation/56/student/19/queue", headers=STUDENT_19)
    assert own.status_code == 202
    assert client.get(f"{PREFIX}/jobs/{own.json()['job_id']}/status", headers=STUDENT_19).status_code == 200

    other = client.post(f"{PREFIX}/evaluation/56/student/20/queue", headers=STUDENT_19)
    assert other.status_code == 403
    teacher_job = client.post(f"{PREFIX}/evaluation/56/student/20/queue", headers=TEACHER).json()["job_id"]
    assert client.get(f"{PREFIX}/jobs/{teacher_job}/status", headers=STUDENT_19).status_code == 403
    assert client.post(f"{PREFIX}/evaluation/56/batch-queue", headers=STUDENT_19).status_code == 403


def test_nothing_of_another_school_is_visible(client, other_school_teacher):
    job_id = client.post(f"{PREFIX}/evaluation/56/student/19/queue", headers=TEACHER).json()["job_id"]
    for method, path in [
        ("post", f"{PREFIX}/evaluation/56/student/19/queue"),
        ("get", f"{PREFIX}/evaluation/56/student/19"),
        ("get", f"{PREFIX}/jobs/{job_id}/status"),
        ("post", f"{PREFIX}/evaluation/56/batch-queue"),
        ("get", f"{PREFIX}/evaluation/56/jobs"),
    ]:
        response = getattr(client, method)(path, headers=other_school_teacher)
        assert response.status_code == 404, path
        assert "not found" in response.json()["detail"]


def test_unknown_evaluation_student_and_job_are_404_and_malformed_ids_422(client):
    assert client.post(f"{PREFIX}/evaluation/9999/student/19/queue", headers=TEACHER).status_code == 404
    assert client.post(f"{PREFIX}/evaluation/56/student/9999/queue", headers=TEACHER).status_code == 404
    assert client.get(f"{PREFIX}/jobs/summary-56-19-nope/status", headers=TEACHER).status_code == 404
    response = client.post(f"{PREFIX}/evaluation/abc/student/19/queue", headers=TEACHER)
    assert response.status_code == 422
    assert response.json()["detail"].startswith("Invalid request: evaluation_id in the URL:")
    assert "'abc'" in response.json()["detail"]


def test_since_lists_only_the_jobs_that_changed_after_the_previous_answer(demo_school):
    client = api_client(demo_school)
    jobs = f"{PREFIX}/evaluation/56/jobs"
    first = client.post(f"{PREFIX}/evaluation/56/student/19/queue", headers=TEACHER).json()
    listed = client.get(jobs, headers=TEACHER).json()
    assert [j["job_id"] for j in listed["jobs"]] == [first["job_id"]]

    with session_scope(demo_school.database_url) as session:
        # The first job last changed long before this answer's as_of; the cancel below changes the second.
        session.scalar(select(SummaryJob).where(SummaryJob.job_id == first["job_id"])).updated_at = LONG_AGO
    second = client.post(f"{PREFIX}/evaluation/56/student/20/queue", headers=TEACHER).json()
    changed = client.get(jobs, params={"since": listed["as_of"]}, headers=TEACHER).json()
    assert [j["job_id"] for j in changed["jobs"]] == [second["job_id"]]
    assert changed["jobs"][0]["updated_at"] >= listed["as_of"]

    client.post(f"{PREFIX}/jobs/{second['job_id']}/cancel", headers=TEACHER)
    after_cancel = client.get(jobs, params={"since": "2026-01-01T00:00:00Z"}, headers=TEACHER).json()
    assert [(j["job_id"], j["status"]) for j in after_cancel["jobs"]] == [(second["job_id"], "cancelled")]


def test_since_must_carry_a_time_zone(demo_school):
    response = api_client(demo_school).get(f"{PREFIX}/evaluation/56/jobs", params={"since": "2026-01-01T00:00:00"}, headers=TEACHER)
    assert response.status_code == 422
    assert "since" in response.json()["detail"]
