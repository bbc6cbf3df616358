"""The whole pipeline through its real entry points: API, a worker process, Redis, the database."""

import subprocess
import sys
import time

import httpx
import pytest

from peerdigest.dev.embedded_redis import free_port
from tests.conftest import run_cli, settings_env
from tests.support.api import PREFIX, TEACHER, api_client
from peerdigest.testing.serving import wait_until_serving

pytestmark = pytest.mark.slow


def test_a_real_worker_takes_a_queued_job_to_completed(process_demo_school):
    client = api_client(process_demo_school)
    job_id = client.post(f"{PREFIX}/evaluation/56/student/19/queue", headers=TEACHER).json()["job_id"]

    worker = run_cli(process_demo_school, "worker", "--burst")
    assert worker.returncode == 0, worker.stderr

    status = client.get(f"{PREFIX}/jobs/{job_id}/status", headers=TEACHER).json()
    assert status["status"] == "completed"
    assert status["progress"] == 100
    assert status["attempts"] == 1
    assert status["started_at"] <= status["completed_at"]
    assert status["result"]["generation_method"] == "builtin"
    assert status["result"]["feedback_count"] > 0
    assert job_id in worker.stderr, "every worker log line about a job names it"

    stored = client.get(f"{PREFIX}/evaluation/56/student/19", headers=TEACHER).json()
    assert stored["summary_text"] == status["result"]["summary_text"]
    assert stored["student_name"] == "Jan de Vries"
    assert "Jan" not in stored["summary_text"]


def test_the_readme_curl_procedure_against_real_api_and_worker_processes(process_demo_school):
    port = free_port()
    env = settings_env(process_demo_school)
    api = subprocess.Popen([sys.executable, "-m", "peerdigest", "api", "--port", str(port)], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker = subprocess.Popen([sys.executable, "-m", "peerdigest", "worker"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}{PREFIX}"
    try:
        wait_until_serving(f"http://127.0.0.1:{port}", api)
        queued = httpx.post(f"{base}/evaluation/56/student/19/queue", headers=TEACHER)
        assert queued.status_code == 202
        job_id = queued.json()["job_id"]
        seen = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            status = httpx.get(f"{base}/jobs/{job_id}/status", headers=TEACHER).json()
            if not seen or seen[-1] != status["status"]:
                seen.append(status["status"])
            if status["status"] in ("completed", "failed"):
                break
            time.sleep(0.05)
        # The worker may take the job before the first poll; it must never go backwards or fail.
        assert seen[0] in ("queued", "processing") and seen[-1] == "completed"
        assert seen == sorted(seen, key=["queued", "processing", "completed"].index)
        assert status["result"]["summary_text"]
    finally:
        for process in (api, worker):
            process.terminate()
        assert worker.wait(30) == 0, "SIGTERM stops a worker cleanly"
        api.wait(30)
