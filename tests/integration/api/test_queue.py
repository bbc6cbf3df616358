"""/api/v1/queue/stats and /api/v1/queue/health against real Redis servers and a real worker."""

import time

import pytest

from peerdigest.dev.embedded_redis import EmbeddedRedis
from tests.conftest import make_settings, start_cli
from tests.support.api import PREFIX, STUDENT_19, TEACHER, api_client


def test_stats_count_jobs_by_status_and_show_each_queue(demo_school):
    client = api_client(demo_school)
    client.post(f"{PREFIX}/evaluation/56/batch-queue", json={"student_ids": [19, 20]}, headers=TEACHER)
    client.post(f"{PREFIX}/evaluation/56/student/21/queue", json={"priority": "high"}, headers=TEACHER)

    stats = client.get("/api/v1/queue/stats", headers=TEACHER).json()
    assert stats["jobs"] == {"queued": 3, "processing": 0, "completed": 0, "failed": 0, "cancelled": 0}
    assert stats["redis_reachable"] is True
    depth = {q["name"]: q["queued"] for q in stats["queues"]}
    assert depth == {"summaries-high": 1, "summaries-normal": 2, "summaries-low": 0, "webhooks": 0}
    assert stats["workers"] == []
    assert client.get("/api/v1/queue/stats", headers=STUDENT_19).status_code == 403


def _waiting_for_jobs(health) -> bool:
    return health.status_code == 200 and [w["state"] for w in health.json()["workers"]] == ["idle"]


@pytest.mark.slow
def test_health_answers_503_without_a_live_worker_or_without_redis(one_database_url, tmp_path):
    with EmbeddedRedis(tmp_path / "redis") as server:
        settings = make_settings(one_database_url, server.url, tmp_path)
        client = api_client(settings)
        worker = start_cli(settings, "worker", "--name", "health-probe")
        try:
            # Until RQ's worker waits for jobs ("idle") it has not installed its SIGTERM handler yet,
            # and stopping it earlier would kill it rather than stop it.
            deadline = time.monotonic() + 30
            while not _waiting_for_jobs(healthy := client.get("/api/v1/queue/health")):
                assert time.monotonic() < deadline, healthy.json()
                time.sleep(0.1)
            body = healthy.json()
            assert (body["status"], body["detail"], body["redis_reachable"]) == ("ok", None, True)
            (seen,) = body["workers"]
            assert seen["name"] == "health-probe" and seen["last_heartbeat"] and seen["current_job"] is None
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

