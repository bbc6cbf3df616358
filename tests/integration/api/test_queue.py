"""/api/v1/queue/stats and /api/v1/queue/health against real Redis servers and a real worker."""

import time

import pytest

from peerdigest.dev.embedded_redis import EmbeddedRedis
from peerdigest.db.session import session_scope
from peerdigest.dev.seed import seed_demo
from tests.conftest import make_settings, start_cli
from tests.support.api import PREFIX, STUDENT_19, TEACHER, api_client


def test_stats_count_jobs_by_status_and_show_each_queue(demo_school):
    client = api_client(demo_school.model_copy(update={"installation_admins": "docent@example.com"}))
    client.post(f"{PREFIX}/evaluation/56/batch-queue", json={"student_ids": [19, 20]}, headers=TEACHER)
    client.post(f"{PREFIX}/evaluation/56/student/21/queue", json={"priority": "high"}, headers=TEACHER)

    stats = client.get("/api/v1/queue/stats", headers=TEACHER).json()
    assert stats["scope"] == "installation"
    assert stats["jobs"] == {"queued": 3, "processing": 0, "completed": 0, "failed": 0, "cancelled": 0}
    assert stats["redis_reachable"] is True
    depth = {q["name"]: q["queued"] for q in stats["queues"]}
    assert depth == {"summaries-high": 1, "summaries-normal": 2, "summaries-low": 0, "webhooks": 0, "mail": 0}
    assert stats["workers"] == []
    assert client.get("/api/v1/queue/stats", headers=STUDENT_19).status_code == 403


def test_a_teacher_sees_only_their_own_schools_jobs_and_no_queues_or_workers(demo_school, other_school_teacher):
    client = api_client(demo_school)
    client.post(f"{PREFIX}/evaluation/56/batch-queue", json={"student_ids": [19, 20]}, headers=TEACHER)

    own = client.get("/api/v1/queue/stats", headers=TEACHER).json()
    assert (own["scope"], own["jobs"]["queued"], own["queues"], own["workers"]) == ("school", 2, [], [])
    other = client.get("/api/v1/queue/stats", headers=other_school_teacher).json()
    assert (other["scope"], other["jobs"]["queued"]) == ("school", 0)


def test_the_origin_apps_queue_paths_still_answer(demo_school):
    client = api_client(demo_school)
    for path in ("stats", "health"):
        today = client.get(f"/api/v1/queue/{path}", headers=TEACHER)
        legacy = client.get(f"{PREFIX}/queue/{path}", headers=TEACHER)
        assert (legacy.status_code, legacy.json()) == (today.status_code, today.json())
    schema = client.get("/openapi.json").json()["paths"]
    assert schema[f"{PREFIX}/queue/stats"]["get"]["deprecated"] is True


def _waiting_for_jobs(client) -> bool:
    stats = client.get("/api/v1/queue/stats", headers=TEACHER).json()
    return [w["state"] for w in stats["workers"]] == ["idle"]


@pytest.mark.slow
def test_health_answers_503_without_a_live_worker_or_without_redis(one_database_url, tmp_path):
    with EmbeddedRedis(tmp_path / "redis") as server:
        settings = make_settings(one_database_url, server.url, tmp_path, installation_admins="docent@example.com")
        with session_scope(one_database_url) as session:
            seed_demo(session)
        client = api_client(settings)
        worker = start_cli(settings, "worker", "--name", "health-probe")
        try:
            # Until RQ's worker waits for jobs ("idle") it has not installed its SIGTERM handler yet,
            # and stopping it earlier would kill it rather than stop it.
            deadline = time.monotonic() + 30
            while not _waiting_for_jobs(client):
                assert time.monotonic() < deadline
                time.sleep(0.1)
            healthy = client.get("/api/v1/queue/health")
            body = healthy.json()
            assert (body["status"], body["detail"], body["redis_reachable"]) == ("ok", None, True)
            assert (body["workers_alive"], body["workers"]) == (1, []), "no worker names or job ids without signing in"
            assert "health-probe" not in healthy.text
        finally:
            worker.terminate()
            assert worker.wait(30) == 0

        no_worker = client.get("/api/v1/queue/health")
        assert no_worker.status_code == 503
        assert no_worker.json()["redis_reachable"] is True
        assert "No worker has sent a heartbeat" in no_worker.json()["detail"]

        server.stop()
        no_redis = client.get("/api/v1/queue/health")
        assert no_redis.status_code == 503
        assert no_redis.json()["redis_reachable"] is False
        assert "Redis does not answer" in no_redis.json()["detail"]
        assert client.get("/healthz").status_code == 200, "the API itself stays up"

