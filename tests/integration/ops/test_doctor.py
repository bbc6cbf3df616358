"""`peerdigest doctor` explains each problem in one line with its fix; services refuse to start on the fatal ones."""

import time

import pytest
from rq import Queue
from rq.job import Job
from rq.registry import FailedJobRegistry

from peerdigest.db.session import session_scope
from peerdigest.dev.embedded_redis import free_port
from peerdigest.ops.doctor import CHECKS, Level, diagnose, start_problems
from peerdigest.queue import lifecycle
from peerdigest.queue.connection import connect
from peerdigest.queue.jobs import find
from peerdigest.queue.llm_slots import HARD_KILL_GRACE
from peerdigest.queue.llm_slots import KEY as LLM_SLOTS
from tests.conftest import run_cli
from tests.support.api import PREFIX, TEACHER, api_client
from tests.support.feedback import store_summary
from peerdigest.testing.fake_llm import FakeLLM

pytestmark = pytest.mark.slow


def _lines(result) -> dict[str, str]:
    """Each check's line, by check name."""
    return {line[5:21].rstrip(): line for line in result.stdout.splitlines() if line[5:21].rstrip() in CHECKS}


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


def _queue(settings, *students: int) -> list[str]:
    client = api_client(settings)
    return [client.post(f"{PREFIX}/evaluation/56/student/{s}/queue", headers=TEACHER).json()["job_id"] for s in students]


def _finding(settings, check: str):
    (finding,) = diagnose(settings, (check,))
    return finding


def test_differences_between_the_database_and_redis_fail_one_line_each_until_recovered(process_demo_school, redis):
    lost, garbled, dangling, holder = _queue(process_demo_school, 19, 20, 21, 22)
    redis.delete(Job.key_for(lost))
    Queue("summaries-normal", connection=redis).remove(lost)
    redis.hset(Job.key_for(garbled), "data", b"\x78\x9c garbage")
    redis.rpush("rq:queue:summaries-normal", "summary-56-99-nowhere")
    with session_scope(process_demo_school.database_url) as session:  # it ended; its slot is still held
        lifecycle.fail(session, redis, process_demo_school, holder, "evaluation 56 is gone")
    redis.zadd(LLM_SLOTS, {holder: time.time() + 300})

    result = run_cli(process_demo_school, "doctor")

    assert result.returncode == 1, result.stdout
    lines = _lines(result)
    assert lines["open jobs"].startswith("FAIL") and f"{lost} (queued)" in lines["open jobs"]
    assert lines["job data"].startswith("FAIL") and f"{garbled} (DeserializationError" in lines["job data"]
    assert lines["queue entries"].startswith("FAIL") and "summary-56-99-nowhere on summaries-normal" in lines["queue entries"]
    assert lines["llm slots"].startswith("FAIL") and f"{holder} (failed, held " in lines["llm slots"]
    assert all("fix: `peerdigest jobs recover`" in lines[check] for check in ("open jobs", "job data", "queue entries", "llm slots"))
    assert dangling not in result.stdout, "a job Redis holds in full is not named"

    assert run_cli(process_demo_school, "jobs", "recover").returncode == 0
    after = run_cli(process_demo_school, "doctor")
    lines = _lines(after)
    assert all(lines[check].startswith("ok") for check in ("open jobs", "job data", "queue entries", "llm slots")), after.stdout


def test_a_processing_job_redis_lost_is_named(process_demo_school, redis):
    (job_id,) = _queue(process_demo_school, 19)
    with session_scope(process_demo_school.database_url) as session:
        lifecycle.start(session, job_id, "a-worker")
    redis.flushdb()

    finding = _finding(process_demo_school, "open jobs")

    assert finding.level == Level.fail and f"{job_id} (processing)" in finding.message


def test_an_unreadable_job_on_a_queue_is_named_whatever_its_row(process_demo_school, redis):
    (job_id,) = _queue(process_demo_school, 19)
    with session_scope(process_demo_school.database_url) as session:  # ended here, still queued on Redis
        lifecycle.fail(session, connect(f"redis://127.0.0.1:{free_port()}/0"), process_demo_school, job_id, "gone")
    redis.hset(Job.key_for(job_id), "status", b"\x9c\xff")

    finding = _finding(process_demo_school, "job data")

    assert finding.level == Level.fail and f"{job_id} (UnicodeDecodeError" in finding.message


def test_held_llm_slots_are_shown_with_their_job_and_age(process_demo_school, redis):
    (job_id,) = _queue(process_demo_school, 19)
    with session_scope(process_demo_school.database_url) as session:
        lifecycle.start(session, job_id, "a-worker")
    lease = process_demo_school.job_timeout + HARD_KILL_GRACE
    redis.zadd(LLM_SLOTS, {job_id: time.time() + lease - 42})

    finding = _finding(process_demo_school, "llm slots")

    assert finding.level == Level.ok
    assert f"1 of {process_demo_school.llm_max_concurrency} held: {job_id} (4" in finding.message


def test_a_completed_job_rq_lists_as_failed_is_a_warning(process_demo_school, redis):
    (job_id,) = _queue(process_demo_school, 19)
    with session_scope(process_demo_school.database_url) as session:
        lifecycle.start(session, job_id, "a-worker")
        stored = store_summary(session, 56, 19)
        lifecycle.complete_from_rq(session, redis, process_demo_school, find(session, job_id), stored)
    job = Job.fetch(job_id, connection=redis)
    Queue("summaries-normal", connection=redis).remove(job)
    FailedJobRegistry("summaries-normal", connection=redis).add(job, ttl=600, exc_string="AbandonedJobError")

    finding = _finding(process_demo_school, "registries")

    assert finding.level == Level.warn and f"{job_id} (completed, listed as failed)" in finding.message
