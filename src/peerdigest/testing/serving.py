"""Wait for a started API process to answer, for tests and `make bench`."""

from __future__ import annotations

import subprocess
import time

import httpx


def wait_until_serving(base_url: str, process: subprocess.Popen, timeout: float = 30) -> None:
    """Poll `base_url`/healthz until a started API process answers; fail early if it exited."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            httpx.get(f"{base_url}/healthz")
            return
        except httpx.TransportError:
            if process.poll() is not None:
                raise RuntimeError(f"the API process exited with {process.returncode}")
            if time.monotonic() >= deadline:
                raise TimeoutError(f"the API did not answer within {timeout} s")
            time.sleep(0.1)
