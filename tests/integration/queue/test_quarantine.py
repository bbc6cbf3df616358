"""Queue entries that are not job ids are moved to the quarantine, once, and stop nothing."""

from datetime import timedelta

import pytest
from rq.registry import ScheduledJobRegistry

from peerdigest.db.models import utcnow
from peerdigest.queue import quarantine
from peerdigest.queue.queues import summary_queues
from peerdigest.queue.reconcile import reconcile
from peerdigest.queue.worker import SummaryQueue
from tests.conftest import run_cli
from tests.support.api import PREFIX, TEACHER, api_client

POISON = b"\x78\x9c\xff\xfe"  # the bytes of the incident: the start of a zlib stream, not UTF-8


def _queue(settings, *students: int) -> list[str]:
    client = api_client(settings)
    return [client.post(f"{PREFIX}/evaluation/56/student/{s}/queue", headers=TEACHER).json()["job_id"] for s in students]


@pytest.mark.parametrize("raw", [POISON, b"not a job id", b""], ids=["not utf-8", "a space", "empty"])
def test_only_what_rq_accepts_as_a_job_id_is_one(raw):
    assert not quarantine.is_job_id(raw)
    assert quarantine.is_job_id(b"summary-56-19-0a1b2c3d4e5f")


def test_a_sweep_moves_what_is_not_a_job_id_and_keeps_the_order_of_the_rest(redis):
    normal = "rq:queue:summaries-normal"
    redis.rpush(normal, b"job-1", POISON, b"job-2", POISON)
    schedule = ScheduledJobRegistry("summaries-low", connection=redis)
    redis.zadd(schedule.key, {b"\xff\xfe": 1, b"job-3": 2})
    before = utcnow()

    assert quarantine.sweep(redis, summary_queues(redis)) == 3

    assert redis.lrange(normal, 0, -1) == [b"job-1", b"job-2"]
    assert redis.zrange(schedule.key, 0, -1) == [b"job-3"]
    moved = quarantine.entries(redis)
    assert sorted((entry.source, entry.raw, entry.length) for entry in moved) == sorted(
        [(normal, POISON, 4), (normal, POISON, 4), (schedule.key, b"\xff\xfe", 2)]
    )
    assert all(before <= entry.at <= utcnow() + timedelta(seconds=1) for entry in moved)
    assert quarantine.sweep(redis, summary_queues(redis)) == 0, "a second sweep finds nothing more"
    assert quarantine.count(redis) == 3


def test_a_worker_popping_a_poison_entry_moves_it_and_takes_the_job_behind_it(redis):
    normal = "rq:queue:summaries-normal"
    redis.rpush(normal, POISON, b"job-1")

    popped = SummaryQueue.lpop([normal], timeout=1, connection=redis)

    assert popped == (normal.encode(), b"job-1")
    assert [(entry.source, entry.raw) for entry in quarantine.entries(redis)] == [(normal, POISON)]


def test_a_reconciler_pass_quarantines_a_poison_entry_and_repairs_the_rest(demo_school, redis):
    job_ids = _queue(demo_school, 19, 20)
    redis.flushdb()  # the jobs are lost to Redis...
    redis.lpush("rq:queue:summaries-normal", POISON)  # ...and garbage was pushed

    report = reconcile(demo_school, redis)

    assert (report.quarantined, report.requeued) == (1, 2)
    assert sorted(job_id for queue in summary_queues(redis) for job_id in queue.get_job_ids()) == sorted(job_ids)
    assert reconcile(demo_school, redis).repairs == 0


@pytest.mark.slow
def test_queues_stats_and_doctor_show_the_quarantine(process_settings, redis):
    redis.lpush("rq:queue:summaries-high", POISON)
    quarantine.sweep(redis, summary_queues(redis))

    stats = run_cli(process_settings, "queues", "stats")
    assert stats.returncode == 0, stats.stderr
    assert "1 queue entries that were not job ids" in stats.stdout
    assert "rq:queue:summaries-high" in stats.stdout

    doctor = run_cli(process_settings, "doctor")
    (line,) = [line for line in doctor.stdout.splitlines() if line[5:].startswith("quarantine ")]
    assert line.startswith("WARN") and "4 bytes from rq:queue:summaries-high" in line and "fix:" in line
