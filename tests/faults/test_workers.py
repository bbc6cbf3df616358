"""Workers that die, are stopped, are misconfigured, or wait on an LLM that hangs: no job is lost or stuck."""

import os

import psutil
import pytest

from peerdigest.db.models import JobStatus
from tests.faults.harness import wait_for
from peerdigest.testing.fake_llm import Reply

pytestmark = pytest.mark.slow


def test_sigkill_a_worker_mid_job(scenario, llm, record):
    llm.then(Reply(delay=30))  # the first summary hangs in its LLM call until the worker is killed
    job_ids = scenario.queue([(56, 19), (56, 20), (56, 21)])
    doomed = scenario.worker()
    wait_for(lambda: llm.in_flight == 1, "the first job to be in its LLM call", scenario)

    scenario.kill(doomed)
    scenario.fault()
    scenario.worker()
    scenario.scheduler()
    recovery = scenario.settle(job_ids)

    rows = scenario.rows(job_ids)
    assert [rows[j].status for j in job_ids] == ["completed"] * 3
    assert rows[job_ids[0]].attempts == 2, "the killed run counted as an attempt, and the job ran again"
    assert [rows[j].attempts for j in job_ids[1:]] == [1, 1]
    record(scenario.judge(job_ids, recovery))


def test_sigkill_a_work_horse_mid_job_its_worker_runs_the_job_again_at_once(scenario, llm, record):
    llm.then(Reply(delay=30))  # the first summary hangs in its LLM call until its horse is killed
    job_ids = scenario.queue([(56, 19), (56, 20)])
    worker = scenario.worker()  # and no scheduler: no reconciler pass will hand the job back
    wait_for(lambda: llm.in_flight == 1, "the first job to be in its LLM call", scenario)
    (horse,) = [p for p in psutil.Process(worker.pid).children() if os.getpgid(p.pid) == p.pid]  # leads its group

    horse.kill()
    scenario.fault()
    recovery = scenario.settle(job_ids)

    rows = scenario.rows(job_ids)
    assert [rows[j].status for j in job_ids] == ["completed"] * 2
    assert rows[job_ids[0]].attempts == 2, "the killed run counted as an attempt, and the job ran again"
    assert worker.poll() is None
    record(scenario.judge(job_ids, recovery))


def test_sigterm_during_a_job_lets_it_finish(scenario, llm, record):
    llm.then(Reply(delay=3))
    job_ids = scenario.queue([(56, 19)])
    worker = scenario.worker()
    wait_for(lambda: llm.in_flight == 1, "the job to be in its LLM call", scenario)

    worker.terminate()
    scenario.fault()
    assert worker.wait(60) == 0, scenario.tail()
    recovery = scenario.settle(job_ids, timeout=1)

    job = scenario.rows(job_ids)[job_ids[0]]
    assert (job.status, job.attempts) == ("completed", 1), "the worker finished the job in hand before it stopped"
    record(scenario.judge(job_ids, recovery))


def test_a_worker_with_a_decoding_connection_refuses_to_start(scenario, record):
    job_ids = scenario.queue([(56, 19)])
    decoding = scenario.settings.model_copy(update={"redis_url": scenario.settings.redis_url + "?decode_responses=True"})

    refused = scenario.start("worker", settings=decoding)
    scenario.fault()
    assert refused.wait(60) != 0
    output = scenario.logs[-1].read_text()
    assert "decode_responses" in output and "UnicodeDecodeError" in output and "fix:" in output
    assert "Traceback" not in output, "a plain explanation, not a crash"
    assert scenario.rows(job_ids)[job_ids[0]].status == JobStatus.queued, "the job waits, untouched"

    scenario.worker()
    recovery = scenario.settle(job_ids)
    assert scenario.rows(job_ids)[job_ids[0]].status == JobStatus.completed
    record(scenario.judge(job_ids, recovery))


def test_an_llm_server_hanging_past_the_timeout(scenario, llm, record):
    scenario.configure(llm_timeout=1.0, max_retries=1)
    llm.then(Reply(delay=5), Reply(delay=5))  # both attempts of the first job hang
    (hanging,) = scenario.queue([(56, 19)])
    scenario.fault()
    scenario.worker()
    scenario.scheduler()
    scenario.settle([hanging])
    (after,) = scenario.queue([(56, 20)])
    recovery = scenario.settle([hanging, after])

    rows = scenario.rows([hanging, after])
    assert (rows[hanging].status, rows[hanging].attempts) == ("completed", 2)
    assert rows[hanging].result["generation_method"] == "fallback", (
        "after its last attempt timed out, the job ends with the builtin summary"
    )
    assert (rows[after].status, rows[after].result["generation_method"]) == ("completed", "ai"), (
        "the worker was not wedged by the hanging server"
    )
    record(scenario.judge([hanging, after], recovery))
