"""`peerdigest run` heals itself: a worker killed mid-job is replaced, and its job ends with no manual command."""

import psutil
import pytest
from rq import Worker

from peerdigest.dev.embedded_redis import free_port
from peerdigest.testing.fake_llm import Reply
from tests.faults.harness import wait_for

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("workers", [1, 2], ids=["one worker, restarted by run", "a pool of two"])
def test_sigkill_a_worker_mid_job_under_peerdigest_run(scenario, llm, record, workers):
    llm.then(Reply(delay=30))  # the first summary hangs in its LLM call until its worker is killed
    job_ids = scenario.queue([(56, 19), (56, 20), (56, 21)])
    run = scenario.start("run", "--port", str(free_port()), "--workers", str(workers))

    def busy():
        return [w for w in Worker.all(connection=scenario.redis) if w.get_current_job_id() is not None]

    # Which job's request reaches the LLM first is up to the workers; wait until the hanging one is the only
    # job in hand (with two workers, the other worker finishes the rest meanwhile).
    wait_for(lambda: llm.in_flight == 1 and len(busy()) == 1, "one job left hanging in its LLM call", scenario)
    (holder,) = busy()
    hanging = holder.get_current_job_id()

    scenario.kill(psutil.Process(holder.pid))  # the worker and its work horse, not run
    scenario.fault()
    recovery = scenario.settle(job_ids)

    assert run.poll() is None, "run carries on: a dead worker is no reason to stop the others"
    rows = scenario.rows(job_ids)
    assert [rows[j].status for j in job_ids] == ["completed"] * 3
    assert rows[hanging].attempts == 2, "the killed run counted as an attempt, and the job ran again"
    record(scenario.judge(job_ids, recovery))
