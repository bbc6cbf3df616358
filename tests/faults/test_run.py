"""`peerdigest run` heals itself: any one of its processes killed mid-batch, every job still ends, with no manual command."""

import os
import re

import httpx
import psutil
import pytest
from rq import Worker

from peerdigest.config import Settings
from peerdigest.dev.embedded_redis import free_port
from peerdigest.queue.connection import connect
from peerdigest.testing.fake_llm import Reply
from tests.faults.conftest import FAST
from tests.faults.harness import wait_for
from tests.support.api import PREFIX, TEACHER

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("workers", [1, 2], ids=["one worker, restarted by run", "a pool of two"])
def test_sigkill_a_worker_mid_job_under_peerdigest_run(scenario, llm, record, workers):
    llm.then(Reply(delay=30))  # the first summary hangs in its LLM call until its worker is killed
    job_ids = scenario.queue([(56, 19), (56, 20), (56, 21)])
    run = scenario.start("run", "--port", str(free_port()), "--workers", str(workers))

    def busy():
        return [w for w in Worker.all(connection=scenario.redis) if w.get_current_job_id() is not None]

    # Which job's request reaches the LLM first is up to the workers; wait until the hanging one is the only
    # job in hand. With two workers the other one finishes the rest meanwhile, and between two of those it is
    # idle for a moment too: only once no job waits (or no other worker could take one) is the one busy worker
    # the holder of the hanging job for good.
    def hanging_alone():
        waiting = [row for row in scenario.rows(job_ids).values() if row.status == "queued"]
        return llm.in_flight == 1 and len(busy()) == 1 and (workers == 1 or not waiting)

    wait_for(hanging_alone, "one job left hanging in its LLM call", scenario)
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


# The settings a deployment has unless it changes them: heartbeats every 30 s, a job abandoned after
# 120 s without one, the reconciler every minute, the first retry after two.
DEFAULTS = {name: Settings.model_fields[name].default for name in FAST}
ONE_OF_EACH = ["the pool", "a pool worker", "a work horse", "the scheduler", "the API", "the embedded Redis"]


@pytest.mark.parametrize("victim", ONE_OF_EACH)
def test_sigkill_any_one_process_of_run_mid_batch_with_default_settings(scenario, llm, record, victim):
    llm.latency = 3  # every answer takes a while: jobs are in flight when the process dies
    scenario.configure(**DEFAULTS, embedded_redis="always")
    port = free_port()
    run = scenario.start("run", "--port", str(port), "--workers", "2")
    log = scenario.logs[-1]
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: log.read_text().count("Listening on") == 2 and "scheduler started" in log.read_text()
             and "Uvicorn running" in log.read_text(), "run to start everything", scenario)
    redis = connect(re.search(r"Redis at (\S+) \(embedded\)", log.read_text()).group(1))
    batch = httpx.post(f"{base}{PREFIX}/evaluation/56/batch-queue", headers=TEACHER)
    job_ids = [item["job_id"] for item in batch.json()["results"]]
    wait_for(lambda: llm.in_flight == 2, "both workers to be in their LLM calls", scenario)

    processes = _processes_of(run, redis)
    processes[victim].kill()  # that process alone: its children are left to find out
    scenario.fault()
    recovery = scenario.settle(job_ids, timeout=180)

    assert run.poll() is None
    assert {job.status for job in scenario.rows(job_ids).values()} == {"completed"}
    record(scenario.judge(job_ids, recovery))


def _processes_of(run, redis) -> dict[str, psutil.Process]:
    """One process of each kind under `peerdigest run`: a worker and a horse that are on a job."""
    children = {" ".join(p.cmdline()): p for p in psutil.Process(run.pid).children()}
    pool = next(p for line, p in children.items() if " worker " in line)
    busy = next(w for w in Worker.all(connection=redis) if w.get_current_job_id() is not None)
    worker = psutil.Process(busy.pid)
    horse = next(p for p in worker.children() if os.getpgid(p.pid) == p.pid)  # a horse leads its own group
    return {
        "the pool": pool,
        "a pool worker": worker,
        "a work horse": horse,
        "the scheduler": next(p for line, p in children.items() if line.endswith(" scheduler")),
        "the API": next(p for line, p in children.items() if " api " in line),
        "the embedded Redis": next(p for p in children.values() if p.name().startswith("redis-server")),
    }
