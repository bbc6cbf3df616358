"""API clients for tests: in-process on the real database and Redis, and waiting for a started API process."""

from __future__ import annotations

import subprocess
import time

import httpx
from fastapi.testclient import TestClient

from peerdigest.api.app import create_app
from peerdigest.config import Settings
from peerdigest.queue.connection import connect

TEACHER = {"X-User-Email": "docent@example.com"}
STUDENT_19 = {"X-User-Email": "jan@example.com"}
PREFIX = "/api/v1/feedback-summaries"


def api_client(settings: Settings, **options) -> TestClient:
    """`options` go to TestClient, e.g. `client=("10.0.0.5", 50000)` to call from that address."""
    return TestClient(create_app(settings, redis=connect(settings.redis_url)), **options)


def wait_until_serving(base_url: str, process: subprocess.Popen, timeout: float = 30) -> None:
    """Poll `base_url`/healthz until a started API process answers; fail early if it exited."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            httpx.get(f"{base_url}/healthz")
            return
        except httpx.TransportError:
            assert process.poll() is None, f"the API process exited with {process.returncode}"
            assert time.monotonic() < deadline, f"the API did not answer within {timeout} s"
            time.sleep(0.1)
