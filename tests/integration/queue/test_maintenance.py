"""`peerdigest queues clear|stats`: empty Redis's side, never the database of record."""

import re
import time

import pytest
from sqlalchemy import func, select

from peerdigest.db.models import SummaryJob
from peerdigest.db.session import session_scope
from peerdigest.queue.llm_slots import HARD_KILL_GRACE
from peerdigest.queue.llm_slots import KEY as LLM_SLOTS
from peerdigest.queue.queues import summary_queues
from tests.conftest import run_cli
from tests.support.api import PREFIX, TEACHER, api_client

pytestmark = pytest.mark.slow


@pytest.fixture
def three_queued(process_demo_school):
    client = api_client(process_demo_school)
    client.post(f"{PREFIX}/evaluation/56/batch-queue", json={"student_ids": [19, 20, 21]}, headers=TEACHER)
    return process_demo_school


def test_clear_empties_the_queues_says_how_many_and_keeps_the_rows(three_queued, redis):
    result = run_cli(three_queued, "queues", "clear")
    assert result.returncode == 0, result.stderr
    assert "Removed 3 job(s)" in result.stdout
    assert sum(q.count for q in summary_queues(redis)) == 0
    with session_scope(three_queued.database_url) as session:
        assert session.scalar(select(func.count()).select_from(SummaryJob).where(SummaryJob.status == "queued")) == 3


def test_flush_db_asks_for_yes_and_does_nothing_without_it(three_queued, redis):
    redis.set("unrelated-key", b"x")
    refused = run_cli(three_queued, "queues", "clear", "--flush-db")
    assert refused.returncode != 0
    assert "--yes" in refused.stderr + refused.stdout
    assert redis.get("unrelated-key") == b"x" and sum(q.count for q in summary_queues(redis)) == 3

    flushed = run_cli(three_queued, "queues", "clear", "--flush-db", "--yes")
    assert flushed.returncode == 0, flushed.stderr
    assert redis.dbsize() == 0
    with session_scope(three_queued.database_url) as session:
        assert session.scalar(select(func.count()).select_from(SummaryJob)) == 3


def test_stats_shows_each_queue_depth(three_queued):
    result = run_cli(three_queued, "queues", "stats")
    assert result.returncode == 0, result.stderr
    normal = next(line for line in result.stdout.splitlines() if "summaries-normal" in line)
    assert " 3 " in normal


def test_stats_shows_the_llm_slots_held_with_their_job_and_age(three_queued, redis):
    lease = three_queued.job_timeout + HARD_KILL_GRACE
    redis.zadd(LLM_SLOTS, {"summary-56-19-abc": time.time() + lease - 75})

    result = run_cli(three_queued, "queues", "stats")

    assert result.returncode == 0, result.stderr
    assert f"LLM slots: 1 of {three_queued.llm_max_concurrency} held" in result.stdout
    row = next(line for line in result.stdout.splitlines() if "summary-56-19-abc" in line)
    held_for, lease_left = (int(seconds) for seconds in re.findall(r"(\d+) s", row))
    assert held_for >= 75 and abs(held_for + lease_left - lease) <= 1, row
