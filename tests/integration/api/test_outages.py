"""The API during outages: Redis down still accepts jobs; the database down too is a clear 503."""

import sqlite3
import time

import pytest
from fastapi.testclient import TestClient

from peerdigest.web.app import create_app
from peerdigest.db.session import API_BUSY_TIMEOUT, BUSY_TIMEOUT
from peerdigest.dev.embedded_redis import free_port
from peerdigest.queue.queues import summary_queues
from peerdigest.queue.reconcile import reconcile
from tests.conftest import make_settings
from tests.support.api import PREFIX, TEACHER, api_client


def _nothing_listens() -> str:
    return f"redis://127.0.0.1:{free_port()}/0"


def test_with_redis_down_a_request_is_accepted_and_queued_once_redis_is_back(demo_school, redis):
    client = api_client(demo_school.model_copy(update={"redis_url": _nothing_listens()}))

    accepted = client.post(f"{PREFIX}/evaluation/56/student/19/queue", headers=TEACHER)
    assert accepted.status_code == 202
    assert accepted.json()["status"] == "queued"
    job_id = accepted.json()["job_id"]
    status = client.get(f"{PREFIX}/jobs/{job_id}/status", headers=TEACHER)
    assert (status.status_code, status.json()["status"]) == (200, "queued"), "status reads need no Redis"

    assert reconcile(demo_school, redis).requeued == 1, "Redis back: the reconciler queues it"
    assert [job_id] == [j for queue in summary_queues(redis) for j in queue.get_job_ids()]


@pytest.mark.parametrize(
    "database_url",
    ["postgresql+psycopg://postgres@127.0.0.1:1/gone?connect_timeout=2", "sqlite:////nonexistent/folder/peerdigest.db"],
    ids=["postgresql", "sqlite"],
)
def test_with_the_database_down_too_the_answer_is_a_clear_503(database_url, tmp_path):
    settings = make_settings(database_url, _nothing_listens(), tmp_path)
    client = TestClient(create_app(settings, redis_url=settings.redis_url), raise_server_exceptions=False)

    for response in (
        client.post(f"{PREFIX}/evaluation/56/student/19/queue", headers=TEACHER),
        client.get(f"{PREFIX}/jobs/summary-56-19-0a1b2c3d4e5f/status", headers=TEACHER),
    ):
        assert response.status_code == 503
        assert response.json() == {
            "detail": "The database is unavailable right now, so nothing was done or recorded. Try again in a minute."
        }
        assert response.headers["Retry-After"] == "30"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_sqlite_database_locked_by_another_writer_answers_503_after_the_apis_short_wait(demo_school):
    settings = demo_school
    client = TestClient(create_app(settings, redis_url=settings.redis_url), raise_server_exceptions=False)
    writer = sqlite3.connect(settings.sqlite_path, timeout=0)
    writer.execute("BEGIN IMMEDIATE")  # another process holds SQLite's one write lock
    try:
        started = time.monotonic()
        locked = client.post(f"{PREFIX}/evaluation/56/student/19/queue", headers=TEACHER)
        waited = time.monotonic() - started
    finally:
        writer.rollback()
        writer.close()

    assert locked.status_code == 503 and locked.headers["Retry-After"], locked.text
    print(f"answered 503 after {waited:.1f}s (API_BUSY_TIMEOUT {API_BUSY_TIMEOUT}s, workers wait {BUSY_TIMEOUT}s)")
    assert client.post(f"{PREFIX}/evaluation/56/student/19/queue", headers=TEACHER).status_code == 202, (
        "the lock gone, the same request is accepted"
    )
