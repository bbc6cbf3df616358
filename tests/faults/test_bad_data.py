"""Job data a worker cannot read, and queue entries pointing nowhere: set aside, never a dead worker."""

import pytest
from rq.job import Job
from rq.registry import FailedJobRegistry

from peerdigest.db.models import JobStatus
from peerdigest.queue import quarantine
from tests.faults.harness import wait_for

pytestmark = pytest.mark.slow


def test_a_corrupted_job_hash_and_a_dangling_queue_entry(scenario, record):
    redis = scenario.redis
    garbled, undecodable, dangling, sound = job_ids = scenario.queue([(56, 19), (56, 20), (56, 21), (56, 22)])
    redis.hset(Job.key_for(garbled), "data", b"\x78\x9c not a zlib stream, nor a pickle")
    redis.hset(Job.key_for(undecodable), "status", b"\x9c\xff")  # what a non-UTF-8 writer leaves behind
    redis.delete(Job.key_for(dangling))
    redis.rpush("rq:queue:summaries-normal", "summary-from-nowhere")  # neither a job hash nor a row

    worker = scenario.worker()
    scenario.fault()
    recovery = scenario.settle(job_ids)

    rows = scenario.rows(job_ids)
    assert [rows[j].status for j in job_ids] == ["failed", "failed", "completed", "completed"]
    assert all("could not be read" in rows[j].error_message for j in (garbled, undecodable))
    failed = FailedJobRegistry("summaries-normal", connection=redis)
    assert {garbled, undecodable} <= set(failed.get_job_ids()), "set aside in the failed registry"
    assert b"DeserializationError" in redis.hget(Job.key_for(garbled), "exc_info")
    assert b"UnicodeDecodeError" in redis.hget(Job.key_for(undecodable), "exc_info")
    log = scenario.logs[0].read_text()
    assert f"job {dangling}: its queue entry pointed at a missing job hash; re-created from the database" in log
    assert "summary-from-nowhere" in log

    assert worker.poll() is None, "the worker survived all of it"
    (after,) = scenario.queue([(56, 23)])
    wait_for(lambda: scenario.rows([after])[after].status == JobStatus.completed, "the worker to take the next job",
             scenario)
    record(scenario.judge(job_ids, recovery))


def test_a_poison_queue_entry(scenario, record):
    redis = scenario.redis
    redis.lpush("rq:queue:summaries-normal", b"\x78\x9c\xff\xfe")  # the incident's bytes, pushed by hand
    job_ids = scenario.queue([(56, 19), (56, 20)])
    worker = scenario.worker()
    scenario.scheduler()
    scenario.fault()
    recovery = scenario.settle(job_ids)

    assert [scenario.rows(job_ids)[j].status for j in job_ids] == ["completed", "completed"]
    assert worker.poll() is None, "the worker survived it"
    assert quarantine.count(redis) == 1, "moved once, by the worker or the reconciler"
    (moved,) = quarantine.entries(redis)
    assert (moved.source, moved.length) == ("rq:queue:summaries-normal", 4)
    logs = "\n".join(log.read_text() for log in scenario.logs)
    assert logs.count("is not a job id") == 1, "logged once"
    assert "UnicodeDecodeError" not in logs and "reconciling failed" not in logs
    record(scenario.judge(job_ids, recovery))
