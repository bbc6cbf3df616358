"""`peerdigest api --workers N`: N processes built by the app factory serve one port, and all of them stop."""

from __future__ import annotations

import httpx
import psutil
import pytest

from peerdigest.dev.embedded_redis import free_port
from peerdigest.testing.serving import wait_until_serving
from tests.conftest import start_cli

pytestmark = pytest.mark.slow


def test_two_api_processes_serve_one_port_and_stop_together(process_demo_school):
    port = free_port()
    api = start_cli(process_demo_school, "api", "--port", str(port), "--workers", "2")
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_serving(base, api)
        # uvicorn spawns its workers through multiprocessing (beside it runs only a resource tracker).
        serving = [child for child in psutil.Process(api.pid).children() if "spawn_main" in " ".join(child.cmdline())]
        assert len(serving) >= 2, "two worker processes, each with an app from the factory"
        with httpx.Client(base_url=base, headers={"X-User-Email": "docent@example.com"}) as client:
            answers = [client.get("/api/v1/feedback-summaries/evaluation/56/states").status_code for _ in range(20)]
        assert set(answers) == {200}
    finally:
        api.terminate()
        api.wait(30)
    assert not any(child.is_running() and child.status() != psutil.STATUS_ZOMBIE for child in serving)
