"""`peerdigest scheduler` as real processes: due schedules are queued, each run by exactly one scheduler."""

import re
import time

import pytest
from sqlalchemy import select, update

from peerdigest.db.models import ScheduledJob, SummaryJob, utcnow
from peerdigest.db.session import session_scope
from peerdigest.queue.queues import summary_queues
from tests.conftest import start_cli
from tests.support.api import TEACHER, api_client

pytestmark = pytest.mark.slow

SCHEDULES = "/api/v1/scheduled-jobs"


def _wait_for(condition, what, timeout=30):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


def test_two_schedulers_at_once_queue_each_due_run_exactly_once(process_demo_school, redis, tmp_path):
    settings = process_demo_school.model_copy(update={"scheduler_interval": 0.05})
    client = api_client(settings)
    # Once a year: only the test makes them due, so no second run can come due while it looks.
    ids = [
        client.post(
            SCHEDULES,
            json={"name": f"student {s}", "cron": "0 0 1 1 *", "evaluation_id": 56, "student_ids": [s]},
            headers=TEACHER,
        ).json()["id"]
        for s in range(19, 24)
    ]
    logs = [tmp_path / f"scheduler-{n}.log" for n in (1, 2)]
    schedulers = [start_cli(settings, "scheduler", stderr=log.open("w")) for log in logs]
    try:
        _wait_for(lambda: all("scheduler started" in log.read_text() for log in logs), "both schedulers to start")
        with session_scope(settings.database_url) as session:
            session.execute(update(ScheduledJob).values(next_run_at=utcnow()))

        def all_ran():
            with session_scope(settings.database_url) as session:
                return all(s.last_run_at for s in session.scalars(select(ScheduledJob)))

        _wait_for(all_ran, "every schedule to run")
    finally:
        for process in schedulers:
            process.terminate()
        assert [process.wait(30) for process in schedulers] == [0, 0], "SIGTERM stops a scheduler cleanly"

    runs = [int(m) for log in logs for m in re.findall(r"schedule (\d+) '[^']*' ran", log.read_text())]
    assert sorted(runs) == sorted(ids), "every schedule ran once, in one of the two schedulers"

    with session_scope(settings.database_url) as session:
        jobs = list(session.scalars(select(SummaryJob).order_by(SummaryJob.student_id)))
        schedules = list(session.scalars(select(ScheduledJob)))
    assert [(j.evaluation_id, j.student_id, j.priority, j.status) for j in jobs] == [
        (56, s, "low", "queued") for s in range(19, 24)
    ]
    assert all(s.next_run_at.year == s.last_run_at.year + 1 for s in schedules), "the next run is next year's"
    queued = sorted(job_id for queue in summary_queues(redis) for job_id in queue.get_job_ids())
    assert queued == sorted(j.job_id for j in jobs)
