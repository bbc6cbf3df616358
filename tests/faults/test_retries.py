"""Retries waiting in RQ's schedule when the RQ scheduler dies or hangs: they still run, once each."""

import signal

import psutil
import pytest
from rq.scheduler import SCHEDULER_KEY_TEMPLATE

from peerdigest.testing.fake_llm import Reply
from tests.faults.harness import wait_for

pytestmark = pytest.mark.slow


def _waiting_for_retries(scenario, llm, retry_delay: int) -> list[str]:
    """Two jobs whose first attempt failed (the LLM answered 500) and whose retry is due in `retry_delay` s."""
    scenario.configure(retry_base_delay=retry_delay)
    llm.then(Reply(status=500), Reply(status=500))
    job_ids = scenario.queue([(56, 19), (56, 20)])
    scenario.worker()
    wait_for(lambda: all(job.attempts == 1 and job.next_retry_at for job in scenario.rows(job_ids).values()),
             "both jobs to wait for their retry", scenario)
    return job_ids


def _rq_scheduler(scenario) -> psutil.Process:
    (key,) = scenario.redis.keys(SCHEDULER_KEY_TEMPLATE % "*")
    return psutil.Process(int(scenario.redis.hget(key, "pid")))


def test_the_rq_scheduler_killed_with_retries_pending(scenario, llm, record):
    job_ids = _waiting_for_retries(scenario, llm, retry_delay=3)
    dead = _rq_scheduler(scenario)

    dead.send_signal(signal.SIGKILL)
    scenario.fault()
    recovery = scenario.settle(job_ids)

    rows = scenario.rows(job_ids)
    assert [(rows[j].status, rows[j].attempts) for j in job_ids] == [("completed", 2)] * 2
    assert f"its RQ scheduler (pid {dead.pid}) stopped; starting it again" in scenario.logs[0].read_text()
    assert len(llm.requests) == 4, "two failed attempts, two retries"
    record(scenario.judge(job_ids, recovery))


def test_the_rq_scheduler_hung_with_retries_pending(scenario, llm, record):
    job_ids = _waiting_for_retries(scenario, llm, retry_delay=2)
    hung = _rq_scheduler(scenario)

    hung.send_signal(signal.SIGSTOP)  # alive to its worker, holding its locks, doing nothing
    scenario.fault()
    scenario.scheduler()
    try:
        recovery = scenario.settle(job_ids)
    finally:
        hung.send_signal(signal.SIGKILL)

    rows = scenario.rows(job_ids)
    assert [(rows[j].status, rows[j].attempts) for j in job_ids] == [("completed", 2)] * 2
    scheduler_log = scenario.logs[-1].read_text()
    assert all(f"job {j}: its retry was due but no RQ scheduler queued it" in scheduler_log for j in job_ids)
    assert len(llm.requests) == 4
    record(scenario.judge(job_ids, recovery))
