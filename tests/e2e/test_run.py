"""`peerdigest run` (make run): everything in the foreground, and Ctrl+C stops all of it."""

import signal
import subprocess
import sys
import time

import httpx
import psutil
import pytest

from peerdigest.dev.embedded_redis import free_port
from tests.conftest import settings_env
from tests.support.api import PREFIX, TEACHER
from peerdigest.testing.serving import wait_until_serving

pytestmark = pytest.mark.slow


def test_run_serves_the_curl_procedure_and_ctrl_c_stops_every_process(process_settings):
    port = free_port()
    run = subprocess.Popen(
        [sys.executable, "-m", "peerdigest", "run", "--port", str(port)],
        env=settings_env(process_settings), cwd=process_settings.data_dir,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}{PREFIX}"
    try:
        wait_until_serving(f"http://127.0.0.1:{port}", run, timeout=60)
        children = psutil.Process(run.pid).children(recursive=True)
        assert len(children) >= 2, "an API and a worker"

        job_id = httpx.post(f"{base}/evaluation/56/student/19/queue", headers=TEACHER).json()["job_id"]
        deadline = time.monotonic() + 60
        while (status := httpx.get(f"{base}/jobs/{job_id}/status", headers=TEACHER).json())["status"] != "completed":
            assert status["status"] in ("queued", "processing") and time.monotonic() < deadline, status
            time.sleep(0.1)
    finally:
        # Only the parent is signalled: it must stop its children itself.
        run.send_signal(signal.SIGINT)
        assert run.wait(60) == 0
    gone, alive = psutil.wait_procs(children, timeout=30)
    assert not alive, f"left running: {alive}"
