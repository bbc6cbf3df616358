"""`peerdigest doctor` explains each problem in one line with its fix; services refuse to start on the fatal ones."""

import pytest

from peerdigest.dev.embedded_redis import free_port
from peerdigest.ops.doctor import CHECKS, start_problems
from tests.conftest import run_cli
from peerdigest.testing.fake_llm import FakeLLM

pytestmark = pytest.mark.slow


def _lines(result) -> dict[str, str]:
    """Each check's line, by check name."""
    return {name: line for line in result.stdout.splitlines() for name in CHECKS if line[5:].startswith(name + " ")}


def test_a_healthy_setup_passes_every_check_and_warns_that_no_worker_runs(process_settings):
    result = run_cli(process_settings, "doctor")

    assert result.returncode == 0, result.stdout + result.stderr
    lines = _lines(result)
    assert list(lines) == list(CHECKS), "one line per check, in order"
    assert lines["redis"].startswith("ok") and "answers at" in lines["redis"]
    assert lines["queue connection"].startswith("ok") and "binary-safe" in lines["queue connection"]
    assert lines["database"].startswith("ok") and "up to date" in lines["database"]
    assert lines["workers"].startswith("WARN") and "fix: start `peerdigest worker`" in lines["workers"]


def test_a_decoding_redis_url_fails_the_queue_connection_check(process_settings):
    decoding = process_settings.model_copy(update={"redis_url": process_settings.redis_url + "?decode_responses=True"})

    result = run_cli(decoding, "doctor")

    assert result.returncode == 1
    line = _lines(result)["queue connection"]
    assert line.startswith("FAIL") and "UnicodeDecodeError" in line and "fix: remove decode_responses" in line


def test_an_unmigrated_database_stops_a_worker_at_start(process_settings, tmp_path):
    fresh = process_settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'fresh.db'}"})

    result = run_cli(fresh, "worker", "--burst")

    assert result.returncode == 1
    assert "FAIL database" in result.stderr and "fix: run `peerdigest migrate`" in result.stderr
    assert "Refusing to start the worker" in result.stderr and "Traceback" not in result.stderr


def test_a_model_the_llm_server_does_not_offer_fails_and_an_absent_server_only_warns(process_settings):
    fake = FakeLLM().start()
    try:
        missing = process_settings.model_copy(update={"llm_base_url": fake.base_url, "llm_model": "llama-none"})
        line = _lines(run_cli(missing, "doctor"))["llm"]
        assert line.startswith("FAIL") and "(it offers: fake-model)" in line and "ollama pull llama-none" in line
        offered = missing.model_copy(update={"llm_model": "fake-model"})
        assert _lines(run_cli(offered, "doctor"))["llm"].startswith("ok")
    finally:
        fake.stop()
    gone = process_settings.model_copy(update={"llm_base_url": fake.base_url, "llm_model": "fake-model"})
    assert _lines(run_cli(gone, "doctor"))["llm"].startswith("WARN")


def test_with_redis_down_the_api_may_start_but_a_worker_may_not(process_settings):
    down = process_settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"})

    assert start_problems(down, "api") == [], "the API accepts jobs while Redis is down"
    assert [finding.check for finding in start_problems(down, "worker")] == ["redis"]
