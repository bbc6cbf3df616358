"""`peerdigest run` (make run): everything in the foreground, one Redis, and every way of stopping stops all of it."""

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from peerdigest.dev.embedded_redis import free_port
from peerdigest.testing.fake_llm import FakeLLM, careful_model
from tests.conftest import settings_env
from tests.support.api import PREFIX, TEACHER
from peerdigest.testing.serving import wait_until_serving

pytestmark = pytest.mark.slow


def start_run(settings, output: Path, *args: str) -> tuple[subprocess.Popen, str]:
    """`peerdigest run` with these settings, once its API answers and its workers and scheduler run."""
    port = free_port()
    run = subprocess.Popen(
        [sys.executable, "-m", "peerdigest", "run", "--port", str(port), *args],
        env=settings_env(settings), cwd=settings.data_dir, stdout=output.open("w"), stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    wait_until_serving(base, run, timeout=60)
    deadline = time.monotonic() + 60
    while not ("Listening on" in output.read_text() and "scheduler started" in output.read_text()):
        assert run.poll() is None and time.monotonic() < deadline, output.read_text()
        time.sleep(0.1)
    return run, base


def ours(run: subprocess.Popen) -> list[psutil.Process]:
    """Every process `run` started, and theirs: only descendants count (others run peerdigest here too)."""
    return psutil.Process(run.pid).children(recursive=True)


def redis_servers(processes: list[psutil.Process]) -> list[psutil.Process]:
    return [p for p in processes if p.name().startswith("redis-server")]


def test_with_embedded_redis_always_run_serves_the_curl_procedure_on_one_redis_and_ctrl_c_stops_all(
    process_demo_school, tmp_path
):
    settings = process_demo_school.model_copy(update={"embedded_redis": "always"})
    output = tmp_path / "run.log"
    run, base = start_run(settings, output)
    try:
        children = ours(run)
        assert len(redis_servers(children)) == 1, "one embedded Redis, started by run; none by its children"

        job_id = httpx.post(f"{base}{PREFIX}/evaluation/56/student/19/queue", headers=TEACHER).json()["job_id"]
        deadline = time.monotonic() + 60
        while (status := httpx.get(f"{base}{PREFIX}/jobs/{job_id}/status", headers=TEACHER).json())["status"] != "completed":
            assert status["status"] in ("queued", "processing") and time.monotonic() < deadline, status
            time.sleep(0.1)
        children = ours(run)  # the pool may have started workers since
    finally:
        # Only the parent is signalled: it must stop its children itself.
        run.send_signal(signal.SIGINT)
        assert run.wait(60) == 0
    _, alive = psutil.wait_procs(children, timeout=30)
    assert not alive, f"left running: {alive}"
    assert "Traceback" not in output.read_text()


def test_an_embedded_redis_killed_mid_batch_is_started_again_and_every_job_completes(process_demo_school, tmp_path):
    # An LLM that takes a second per answer keeps the batch going while Redis dies.
    llm = FakeLLM(default=careful_model, capacity=8, latency=1.0).start()
    settings = process_demo_school.model_copy(
        update={"embedded_redis": "always", "llm_base_url": llm.base_url, "llm_model": "fake-model", "reconcile_interval": 1}
    )
    output = tmp_path / "run.log"
    run, base = start_run(settings, output, "--workers", "2")
    try:
        batch = httpx.post(f"{base}{PREFIX}/evaluation/56/batch-queue", headers=TEACHER)
        job_ids = [item["job_id"] for item in batch.json()["results"]]
        while not llm.requests:
            time.sleep(0.05)
        (redis,) = redis_servers(ours(run))
        redis.kill()
        statuses = [httpx.get(f"{base}{PREFIX}/jobs/{j}/status", headers=TEACHER).json()["status"] for j in job_ids]
        assert "completed" not in statuses[-2:], "the batch was still going when Redis died"

        deadline = time.monotonic() + 120
        while True:
            statuses = [httpx.get(f"{base}{PREFIX}/jobs/{j}/status", headers=TEACHER).json()["status"] for j in job_ids]
            if all(s == "completed" for s in statuses):
                break
            assert time.monotonic() < deadline, statuses
            time.sleep(0.5)
        (again,) = redis_servers(ours(run))
        assert again.pid != redis.pid
        assert "the embedded Redis on port" in output.read_text()
    finally:
        run.send_signal(signal.SIGINT)
        assert run.wait(60) == 0
        llm.stop()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGKILL], ids=lambda s: s.name)
def test_any_way_of_stopping_run_leaves_no_process_of_ours(process_demo_school, tmp_path, signum):
    settings = process_demo_school.model_copy(update={"embedded_redis": "always"})
    output = tmp_path / "run.log"
    run, _ = start_run(settings, output, "--workers", "2")
    children = ours(run)
    assert len(redis_servers(children)) == 1

    run.send_signal(signum)
    if signum == signal.SIGKILL:
        # No chance to stop anything in order: the children learn of run's death from the kernel
        # (PR_SET_PDEATHSIG) all at once, Redis included, so workers may complain on their way out.
        assert run.wait(60) == -signal.SIGKILL
    else:
        assert run.wait(60) == 0
        assert "Traceback" not in output.read_text()
    _, alive = psutil.wait_procs(children, timeout=30)
    assert not alive, f"left running: {alive}"
