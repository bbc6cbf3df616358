"""Reconcilers racing each other, or racing RQ keys that vanish, repair each difference once: no job is queued twice."""

import re

import pytest

from peerdigest.queue.queues import summary_queues
from peerdigest.testing.fake_llm import Reply
from tests.faults.harness import wait_for

pytestmark = pytest.mark.slow


def test_two_reconcilers_at_once(scenario, record):
    job_ids = scenario.queue([(56, s) for s in range(19, 27)])
    scenario.redis.flushdb()
    scenario.fault()

    first, second = scenario.recover(), scenario.recover()
    assert [first.wait(60), second.wait(60)] == [0, 0], scenario.tail()

    requeued = [int(re.search(r"requeued\D+(\d+)", log.read_text()).group(1)) for log in scenario.logs]
    assert sorted(requeued) == [0, 8], "one pass repaired all eight; the other, taking its turn, found nothing left"
    waiting = [job_id for queue in summary_queues(scenario.redis) for job_id in queue.get_job_ids()]
    assert sorted(waiting) == sorted(job_ids), "each job is on its queue exactly once"

    scenario.worker()
    recovery = scenario.settle(job_ids)
    assert {job.attempts for job in scenario.rows(job_ids).values()} == {1}
    record(scenario.judge(job_ids, recovery))


def test_a_reconciler_pass_racing_a_vanished_execution(scenario, llm, record):
    llm.then(Reply(delay=30))  # the first summary hangs in its LLM call until its worker is killed
    job_ids = scenario.queue([(56, 19), (56, 20)])
    doomed = scenario.worker()
    wait_for(lambda: llm.in_flight == 1, "the first job to be in its LLM call", scenario)

    scenario.kill(doomed)
    redis = scenario.redis
    (execution,) = redis.keys("rq:execution:*")
    redis.delete(execution)  # its TTL ran out: the index of the job's executions still lists it
    scenario.fault()
    scenario.scheduler()
    scenario.worker()
    recovery = scenario.settle(job_ids)

    rows = scenario.rows(job_ids)
    assert [rows[j].status for j in job_ids] == ["completed", "completed"]
    assert rows[job_ids[0]].attempts == 2, "handed back once, in one pass"
    scheduler_log = next(log for log in scenario.logs if log.name.startswith("scheduler")).read_text()
    assert "not found in Redis" not in scheduler_log and "reconciling failed" not in scheduler_log
    assert len(llm.requests) == 3, "the lost call, then one per job"
    record(scenario.judge(job_ids, recovery))
