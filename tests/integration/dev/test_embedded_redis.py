"""EMBEDDED_REDIS is for the command the user ran (demo, run, up); no other command ever starts a Redis."""

import pytest

from peerdigest.dev.embedded_redis import free_port
from tests.conftest import run_cli

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("command", [["doctor"], ["queues", "stats"], ["jobs", "recover"], ["worker"], ["scheduler"]],
                         ids=" ".join)
def test_with_embedded_redis_always_a_service_uses_redis_url_and_starts_no_redis(process_settings, command):
    nothing_there = f"redis://127.0.0.1:{free_port()}/0"
    settings = process_settings.model_copy(update={"embedded_redis": "always", "redis_url": nothing_there})

    result = run_cli(settings, *command, timeout=60)

    # Had it started an embedded Redis of its own, it would have found one answering.
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"127.0.0.1:{nothing_there.split(':')[2]}" in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
