"""Job control with real worker processes, real Redis, a real database and a fake LLM server:
priorities, retries, permanent failures, cancel, the cache, and the cap on LLM calls in flight."""

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone

import pytest
from rq import Worker
from rq.job import Job, JobStatus
from rq.registry import ScheduledJobRegistry
from sqlalchemy import delete, select

from peerdigest.db.models import Evaluation, FeedbackSummary, SummaryJob
from peerdigest.db.session import session_scope
from peerdigest.queue.queues import summary_queues
from peerdigest.queue.llm_slots import KEY as LLM_SLOTS
from tests.conftest import run_cli, settings_env
from tests.support.api import PREFIX, TEACHER, api_client
from peerdigest.testing.fake_llm import FakeLLM, Reply, reply_with_sentences

pytestmark = pytest.mark.slow

DUTCH_SUMMARY = reply_with_sentences({"messages": [{"content": "Dutch"}]}).text


@pytest.fixture
def fake_llm() -> Iterator[FakeLLM]:
    fake = FakeLLM().start()
    yield fake
    fake.stop()


def _with_llm(settings, fake: FakeLLM, **overrides):
    return settings.model_copy(
        update={"llm_base_url": fake.base_url, "llm_model": "fake-model", "llm_timeout": 10.0, **overrides}
    )


def _wait_for(condition: Callable[[], object], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        time.sleep(0.05)


def _row(settings, job_id: str) -> SummaryJob:
    with session_scope(settings.database_url) as session:
        return session.scalar(select(SummaryJob).where(SummaryJob.job_id == job_id))


def _queue(client, evaluation: int, student: int, **options) -> str:
    response = client.post(f"{PREFIX}/evaluation/{evaluation}/student/{student}/queue", json=options or None, headers=TEACHER)
    assert response.status_code == 202, response.text
    return response.json()["job_id"]


def _burst(settings) -> None:
    worker = run_cli(settings, "worker", "--burst")
    print(worker.stderr)  # shown when the test fails
    assert worker.returncode == 0, worker.stderr


@contextmanager
def _workers(settings, count: int, *, burst: bool = False) -> Iterator[list[subprocess.Popen]]:
    """Worker processes in the background; stopped (SIGTERM, a warm shutdown) when the block ends.
    Their logs go to worker-N.log in the test's directory and are shown when the block fails."""
    command = [sys.executable, "-m", "peerdigest", "worker", *(["--burst"] if burst else [])]
    logs = [settings.data_dir / f"worker-{n}.log" for n in range(count)]
    processes = [
        subprocess.Popen(command, env=settings_env(settings), cwd=settings.data_dir,
                         stdout=subprocess.DEVNULL, stderr=log.open("w"))
        for log in logs
    ]
    try:
        yield processes
    except BaseException:
        for log in logs:
            print(f"--- {log.name}\n{log.read_text()}")
        raise
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            process.wait(30)


def test_a_high_job_waits_for_no_more_than_the_job_in_hand(process_demo_school, fake_llm):
    settings = _with_llm(process_demo_school, fake_llm)
    fake_llm.then(Reply(DUTCH_SUMMARY, delay=3))  # the first job keeps the only worker busy for a while
    client = api_client(settings)
    flood = [_queue(client, 56, student, priority="low") for student in range(19, 24)]

    with _workers(settings, 1, burst=True) as (worker,):
        _wait_for(lambda: _row(settings, flood[0]).status == "processing", "the first low job to start")
        normal = _queue(client, 57, 19, priority="normal")
        high = _queue(client, 57, 20, priority="high")
        assert worker.wait(120) == 0

    rows = [_row(settings, job_id) for job_id in [*flood, normal, high]]
    assert {row.status for row in rows} == {"completed"}
    started = [row.job_id for row in sorted(rows, key=lambda row: row.started_at)]
    assert started == [flood[0], high, normal, *flood[1:]]


def test_a_transient_llm_failure_is_retried_with_back_off_and_then_succeeds(process_demo_school, fake_llm, redis):
    settings = _with_llm(process_demo_school, fake_llm)
    fake_llm.then(Reply(status=500))
    client = api_client(settings)
    job_id = _queue(client, 56, 19)

    _burst(settings)
    waiting = client.get(f"{PREFIX}/jobs/{job_id}/status", headers=TEACHER).json()
    assert (waiting["status"], waiting["attempts"], waiting["max_retries"]) == ("queued", 1, settings.max_retries)
    assert waiting["next_retry_at"] is not None
    assert waiting["error_message"].startswith("TransientSummaryError")
    assert job_id in ScheduledJobRegistry(queue=summary_queues(redis)[1]).get_job_ids(), "RQ holds it until then"

    retry_at = datetime.fromisoformat(waiting["next_retry_at"])
    _wait_for(lambda: datetime.now(timezone.utc) > retry_at, "the retry to fall due")
    _burst(settings)
    done = client.get(f"{PREFIX}/jobs/{job_id}/status", headers=TEACHER).json()
    assert (done["status"], done["attempts"], done["next_retry_at"]) == ("completed", 2, None)
    assert done["result"]["generation_method"] == "ai"
    assert done["error_message"] is None
    assert len(fake_llm.requests) == 2


def test_without_retries_left_the_llm_failure_ends_in_the_builtin_fallback(process_demo_school, fake_llm):
    settings = _with_llm(process_demo_school, fake_llm)
    fake_llm.then(Reply(status=500))  # a 429 or 503 would be waited out first (backpressure)
    client = api_client(settings)
    job_id = _queue(client, 56, 19, max_retries=0)

    _burst(settings)
    row = _row(settings, job_id)
    assert (row.status, row.attempts) == ("completed", 1)
    assert row.result["generation_method"] == "fallback"
    assert row.error_message.startswith("fell back to the builtin summarizer")
    assert len(fake_llm.requests) == 1


def test_a_deleted_evaluation_fails_the_job_at_once_without_retries(process_demo_school, redis):
    client = api_client(process_demo_school)
    job_id = _queue(client, 56, 19, max_retries=3)
    with session_scope(process_demo_school.database_url) as session:
        session.execute(delete(Evaluation).where(Evaluation.id == 56))

    _burst(process_demo_school)
    row = _row(process_demo_school, job_id)
    assert (row.status, row.attempts, row.next_retry_at) == ("failed", 1, None)
    assert row.error_message == "evaluation 56 does not exist"
    assert ScheduledJobRegistry(queue=summary_queues(redis)[1]).count == 0


def test_a_cancelled_queued_job_never_runs(process_demo_school):
    client = api_client(process_demo_school)
    cancelled, kept = _queue(client, 56, 19), _queue(client, 56, 20)
    assert client.post(f"{PREFIX}/jobs/{cancelled}/cancel", headers=TEACHER).status_code == 200

    _burst(process_demo_school)
    row = _row(process_demo_school, cancelled)
    assert (row.status, row.attempts, row.started_at, row.cancelled_by_id) == ("cancelled", 0, None, 1)
    assert _row(process_demo_school, kept).status == "completed"

    finished = client.post(f"{PREFIX}/jobs/{kept}/cancel", headers=TEACHER)
    assert finished.status_code == 409
    assert "already ended (completed)" in finished.json()["detail"]


def test_a_running_job_is_stopped_and_its_summary_discarded(process_demo_school, fake_llm, redis):
    settings = _with_llm(process_demo_school, fake_llm, llm_timeout=120.0)
    fake_llm.then(Reply(DUTCH_SUMMARY, delay=90))  # far longer than this test waits
    client = api_client(settings)
    job_id = _queue(client, 56, 19)

    with _workers(settings, 1, burst=True) as (worker,):
        _wait_for(lambda: fake_llm.in_flight == 1, "the job to call the LLM")
        response = client.post(f"{PREFIX}/jobs/{job_id}/cancel", headers=TEACHER)
        assert response.status_code == 200
        assert response.json()["status"] == "cancelled"
        _wait_for(lambda: fake_llm.abandoned == 1, "the LLM request to be aborted", seconds=45)
        _wait_for(lambda: worker.poll() is not None, "the worker to stop the job and run dry", seconds=45)
        assert worker.returncode == 0

    row = _row(settings, job_id)
    assert (row.status, row.attempts, row.cancelled_by_id) == ("cancelled", 1, 1)
    assert row.started_at is not None and row.result is None
    with session_scope(settings.database_url) as session:
        assert session.scalar(select(FeedbackSummary).where(FeedbackSummary.student_id == 19)) is None
    assert Job.fetch(job_id, connection=redis).get_status() == JobStatus.STOPPED, "RQ killed the work horse"
    assert redis.zcard(LLM_SLOTS) == 0, "the stopped job gave its LLM slot back"


def test_unchanged_feedback_is_answered_from_the_cache_without_the_llm(process_demo_school, fake_llm, redis):
    settings = _with_llm(process_demo_school, fake_llm)
    client = api_client(settings)
    first = _queue(client, 57, 19)
    _burst(settings)
    assert _row(settings, first).result["generation_method"] == "ai"
    assert len(fake_llm.requests) == 1

    response = client.post(f"{PREFIX}/evaluation/57/student/19/queue", headers=TEACHER).json()
    assert (response["status"], response["cached"]) == ("completed", True)
    assert _row(settings, response["job_id"]).result == _row(settings, first).result
    assert [q.count for q in summary_queues(redis)] == [0, 0, 0]
    assert len(fake_llm.requests) == 1, "no LLM call"


def _most_at_once(intervals: list[tuple[datetime, datetime]]) -> int:
    events = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    running = most = 0
    for _, step in events:
        running += step
        most = max(most, running)
    return most


def test_more_workers_than_llm_slots_never_exceed_the_cap(process_demo_school, redis):
    slow = FakeLLM(default=lambda request: Reply(reply_with_sentences(request).text, delay=0.3)).start()
    try:
        settings = _with_llm(process_demo_school, slow, llm_max_concurrency=2)
        client = api_client(settings)
        with _workers(settings, 3):
            _wait_for(lambda: len(Worker.all(connection=redis)) == 3, "three workers to be up")
            batch = client.post(
                f"{PREFIX}/evaluation/56/batch-queue", json={"student_ids": list(range(19, 25))}, headers=TEACHER
            ).json()
            job_ids = [r["job_id"] for r in batch["results"]]
            _wait_for(lambda: all(_row(settings, j).status == "completed" for j in job_ids), "the class", seconds=120)
        rows = [_row(settings, job_id) for job_id in job_ids]
    finally:
        slow.stop()

    assert len(job_ids) == 6 and len(slow.requests) >= 6, "every job asked the LLM"
    assert slow.max_in_flight <= 2
    assert len({row.worker_name for row in rows}) == 3, "every worker took jobs"
    assert _most_at_once([(row.started_at, row.completed_at) for row in rows]) == 3, "all three busy at once"
