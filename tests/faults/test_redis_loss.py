"""Redis loses everything, or is away for a while: every accepted job still ends, exactly once."""

import re

import httpx
import pytest
from rq.registry import FailedJobRegistry, FinishedJobRegistry, StartedJobRegistry
from rq.suspension import suspend
from rq.worker import Worker

from peerdigest.db.models import School
from peerdigest.db.session import session_scope
from peerdigest.dev.seed import load_demo, seed_evaluation
from peerdigest.queue import repairs
from peerdigest.queue.llm_slots import KEY as LLM_SLOTS
from tests.faults.harness import wait_for
from tests.support.api import PREFIX, TEACHER
from peerdigest.testing.fake_llm import Reply, reply_with_sentences

pytestmark = pytest.mark.slow

DEMO_STUDENTS = range(19, 27)


def _more_evaluations(settings, count: int) -> list[int]:
    """`count` more evaluations in the demo school, reviewed by the same teams, so 8 more jobs each may be open."""
    demo = load_demo()
    spec = demo["evaluations"][0]
    with session_scope(settings.database_url) as session:
        school = session.query(School).filter_by(name=demo["school"]).one()
        ids = [1000 + n for n in range(count)]
        for evaluation_id in ids:
            seed_evaluation(session, school, {**spec, "id": evaluation_id}, demo["teams"], demo["comments"][spec["language"]])
    return ids


@pytest.mark.redis_without_persistence
def test_redis_restarts_without_persistence_with_50_jobs_queued(scenario, record):
    evaluations = [56, *_more_evaluations(scenario.settings, 6)]
    pairs = [(e, s) for e in evaluations for s in DEMO_STUDENTS][:50]
    # Workers start suspended (RQ's `rq suspend`), so the 50 jobs are still waiting when Redis goes;
    # the suspension is a Redis key, so it goes with everything else and the workers carry on afterwards.
    suspend(scenario.redis)
    scenario.worker()
    scenario.worker()
    scenario.scheduler()
    job_ids = scenario.queue(pairs)
    assert scenario.redis.llen("rq:queue:summaries-normal") == 50

    scenario.redis_server.kill()
    scenario.fault()
    scenario.redis_server.start()
    recovery = scenario.settle(job_ids, timeout=120)

    rows = scenario.rows(job_ids)
    assert {job.status for job in rows.values()} == {"completed"}
    assert {job.attempts for job in rows.values()} == {1}, "each job ran once"
    scheduler_log = next(log for log in scenario.logs if log.name.startswith("scheduler")).read_text()
    assert len(set(re.findall(r"job (\S+): Redis did not know it", scheduler_log))) == 50
    record(scenario.judge(job_ids, recovery))


def test_flushdb_mid_batch(scenario, llm, record):
    llm.default = lambda request: Reply(reply_with_sentences(request).text, delay=0.2)  # a batch that takes a while
    job_ids = scenario.queue([(56, s) for s in DEMO_STUDENTS])
    scenario.worker()
    scenario.scheduler()
    wait_for(lambda: sum(job.status == "completed" for job in scenario.rows(job_ids).values()) >= 2,
             "a few jobs to complete", scenario)

    scenario.redis.flushdb()
    scenario.fault()
    recovery = scenario.settle(job_ids)

    rows = scenario.rows(job_ids)
    assert {job.status for job in rows.values()} == {"completed"}
    assert {job.attempts for job in rows.values()} == {1}, "the job running during FLUSHDB was not run twice"
    assert len(Worker.all(connection=scenario.redis)) == 1, "the worker registered again, so `queues stats` sees it"
    record(scenario.judge(job_ids, recovery))


def test_redis_restarts_mid_job_with_the_llm_answered(scenario, llm, record):
    llm.then(Reply(delay=3))  # the first job is in its LLM call when Redis goes
    first, *others = job_ids = scenario.queue([(56, 19), (56, 20), (56, 21)])
    scenario.scheduler()  # first: the worker's first job is in its LLM call for a few seconds only
    scenario.worker()
    wait_for(lambda: llm.in_flight == 1, "the first job to be in its LLM call", scenario)

    scenario.redis_server.kill()
    scenario.fault()
    wait_for(lambda: scenario.rows([first])[first].status != "processing", "the first job to end while Redis is down",
             scenario)
    assert scenario.rows([first])[first].status == "completed", "the summary in hand was stored, not failed"
    scenario.redis_server.start()
    recovery = scenario.settle(job_ids)

    rows = scenario.rows(job_ids)
    assert [(rows[j].status, rows[j].attempts) for j in job_ids] == [("completed", 1)] * 3
    worker_log = next(log for log in scenario.logs if log.name.startswith("worker")).read_text()
    assert [worker_log.count(f"job {j}: processing") for j in job_ids] == [1, 1, 1], (
        "each job was summarized once: no LLM call repeated for a summary already in hand"
    )
    assert f"job {first}: LLM slot not released" in worker_log
    record(scenario.judge(job_ids, recovery))


def test_redis_down_during_a_burst_of_queue_requests(scenario, record):
    base = scenario.api()
    scenario.worker()
    scenario.scheduler()

    scenario.redis_server.kill()
    scenario.fault()
    with httpx.Client(base_url=f"{base}{PREFIX}", headers=TEACHER, timeout=30) as api:
        burst = [api.post(f"/evaluation/56/student/{s}/queue") for s in DEMO_STUDENTS]
        assert [r.status_code for r in burst] == [202] * len(DEMO_STUDENTS), burst[0].text
        assert {r.json()["status"] for r in burst} == {"queued"}
        job_ids = [r.json()["job_id"] for r in burst]
        statuses = [api.get(f"/jobs/{job_id}/status") for job_id in job_ids]
        assert {(r.status_code, r.json()["status"]) for r in statuses} == {(200, "queued")}, (
            "status reads come from the database while Redis is down"
        )

        scenario.redis_server.start()
        recovery = scenario.settle(job_ids)
        assert {api.get(f"/jobs/{job_id}/status").json()["status"] for job_id in job_ids} == {"completed"}
    record(scenario.judge(job_ids, recovery))


@pytest.mark.timeout(900)
def test_redis_with_appendonly_restarts_twice_mid_batch_while_a_job_holds_the_only_llm_slot(scenario, llm, record):
    # One LLM slot, and a lease (JOB_TIMEOUT + 60 s) far longer than this test may wait: a slot
    # that only its lease frees would stall the batch past every deadline below.
    scenario.configure(llm_max_concurrency=1, job_timeout=900)
    llm.default = lambda request: Reply(reply_with_sentences(request).text, delay=2)  # each job in its call a while
    job_ids = scenario.queue([(56, s) for s in DEMO_STUDENTS])
    scenario.scheduler()
    scenario.worker()

    holders = []
    for _ in range(2):
        # Generous: a worker that lost Redis may take a minute to start again (and then waits for the slot).
        wait_for(lambda: llm.in_flight == 1 and scenario.redis.zcard(LLM_SLOTS) == 1,
                 "a job to be in its LLM call", scenario, timeout=180)
        (holder,) = _slot_holders(scenario.redis)
        holders.append(holder)
        scenario.redis_server.kill()
        scenario.fault()
        wait_for(lambda: scenario.rows([holder])[holder].status == "completed",
                 "the job in its LLM call to complete while Redis is down", scenario)
        scenario.redis_server.start()  # the append-only file brings back the slot its holder could not release
        # No job can have the slot until the reconciler frees it (it logs that it did, below): well before
        # its lease would end.
        wait_for(lambda: holder not in _slot_holders(scenario.redis),
                 "the reconciler to free the slot of the job that ended", scenario, timeout=120)
    recovery = scenario.settle(job_ids, timeout=300)

    rows = scenario.rows(job_ids)
    assert [(rows[j].status, rows[j].attempts) for j in job_ids] == [("completed", 1)] * len(job_ids)
    assert llm.max_in_flight == 1, "freeing a slot never let two LLM calls run at once"
    assert repairs.totals(scenario.redis)["reclaimed"] == 2, "each outage left one slot, freed by the reconciler"
    scheduler_log = next(log for log in scenario.logs if log.name.startswith("scheduler")).read_text()
    assert all(f"job {holder}: its LLM slot was still held" in scheduler_log for holder in holders)
    worker_log = next(log for log in scenario.logs if log.name.startswith("worker")).read_text()
    assert all(f"job {holder}: LLM slot not released" in worker_log for holder in holders)

    # RQ's registries follow the rows: the runs whose end RQ never heard of are filed as finished.
    redis = scenario.redis
    wait_for(lambda: _filed(redis, "summaries-normal", job_ids), "RQ's registries to agree with the rows", scenario)
    assert redis.zcard(LLM_SLOTS) == 0
    record(scenario.judge(job_ids, recovery))


def _slot_holders(redis) -> list[str]:
    return [member.decode() for member in redis.zrange(LLM_SLOTS, 0, -1)]


def _filed(redis, queue: str, job_ids: list[str]) -> bool:
    """Every job in RQ's finished registry of `queue`, none left as running or failed."""
    finished = set(FinishedJobRegistry(queue, connection=redis).get_job_ids())
    elsewhere = set(StartedJobRegistry(queue, connection=redis).get_job_ids(cleanup=False))
    elsewhere |= set(FailedJobRegistry(queue, connection=redis).get_job_ids())
    return set(job_ids) <= finished and not elsewhere & set(job_ids)
