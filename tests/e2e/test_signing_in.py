"""Proxy mode behind a real `peerdigest api`: only the proxy's own address counts, never X-Forwarded-For."""

import subprocess
import sys

import httpx
import pytest

from peerdigest.config import AuthMode
from peerdigest.dev.embedded_redis import free_port
from tests.conftest import settings_env
from peerdigest.testing.serving import wait_until_serving

pytestmark = pytest.mark.slow

PROXY = "127.0.0.2"  # the whole of 127.0.0.0/8 is loopback on Linux: a second local address to call from


@pytest.fixture
def proxy_mode_api(process_demo_school):
    port = free_port()
    settings = process_demo_school.model_copy(update={"auth_mode": AuthMode.proxy, "trusted_proxies": PROXY})
    api = subprocess.Popen(
        [sys.executable, "-m", "peerdigest", "api", "--port", str(port)],
        env=settings_env(settings), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_serving(f"http://127.0.0.1:{port}", api)
        yield f"http://127.0.0.1:{port}/api/v1/evaluations"
    finally:
        api.terminate()
        api.wait(30)


def test_the_identity_header_counts_from_the_proxy_address_and_a_forged_forwarded_for_does_not_help(proxy_mode_api):
    teacher = {"X-Forwarded-Email": "docent@example.com"}
    with httpx.Client(transport=httpx.HTTPTransport(local_address=PROXY)) as from_proxy:
        assert from_proxy.get(proxy_mode_api, headers=teacher).status_code == 200

    # From 127.0.0.1, claiming to have been forwarded by the proxy: uvicorn must not believe it.
    forged = httpx.get(proxy_mode_api, headers={**teacher, "X-Forwarded-For": PROXY})
    assert forged.status_code == 401
    assert forged.json()["detail"] == "Requests must come through the signing-in reverse proxy."
