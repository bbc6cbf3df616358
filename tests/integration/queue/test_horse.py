"""A worker keeps its work horse for the next job, and still loses only the job when the horse dies."""

import os
import signal
import time

import psutil
import pytest
from rq import Queue
from rq.job import JobStatus

from peerdigest.queue.horse import ReusedHorseWorker

pytestmark = pytest.mark.slow


def own_pid() -> int:
    return os.getpid()


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def sleep(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


@pytest.fixture
def queue(redis):
    return Queue("horse-test", connection=redis)


def run(queue, *calls, jobs_per_horse: int | None = None):
    """Queue `calls` (function, args, timeout), work them off in burst mode; the jobs and the worker."""
    jobs = [queue.enqueue(function, *args, job_timeout=timeout) for function, args, timeout in calls]
    worker = ReusedHorseWorker([queue], connection=queue.connection)
    if jobs_per_horse is not None:
        worker.jobs_per_horse = jobs_per_horse
    worker.work(burst=True, with_scheduler=False)
    for job in jobs:
        job.refresh()
    return jobs, worker


def test_jobs_in_a_row_share_one_horse_that_goes_with_its_worker(queue):
    jobs, _ = run(queue, *[(own_pid, (), 30)] * 3)

    pids = {job.return_value() for job in jobs}
    assert all(job.get_status() == JobStatus.FINISHED for job in jobs)
    assert len(pids) == 1 and os.getpid() not in pids, "one horse, not the worker itself, ran every job"
    (horse,) = pids
    assert not psutil.pid_exists(horse) or psutil.Process(horse).status() == psutil.STATUS_ZOMBIE, (
        "the idle horse was stopped when the worker stopped"
    )


def test_a_horse_that_dies_fails_its_job_only_and_a_new_horse_takes_the_next(queue):
    (before, killed, after), _ = run(queue, (own_pid, (), 30), (die, (), 30), (own_pid, (), 30))

    assert before.get_status() == JobStatus.FINISHED and after.get_status() == JobStatus.FINISHED
    assert killed.get_status() == JobStatus.FAILED
    assert "terminated unexpectedly" in killed.latest_result().exc_string
    assert before.return_value() != after.return_value(), "the dead horse was replaced"


def test_a_job_over_its_timeout_fails_and_the_horse_goes_on(queue):
    (first, late, next_one), _ = run(queue, (own_pid, (), 30), (sleep, (5,), 1), (own_pid, (), 30))

    assert late.get_status() == JobStatus.FAILED
    assert "JobTimeoutException" in late.latest_result().exc_string
    assert next_one.get_status() == JobStatus.FINISHED
    assert next_one.return_value() == first.return_value(), "a timeout raised in the job does not cost the horse"


def test_a_horse_is_replaced_after_its_share_of_jobs(queue):
    jobs, _ = run(queue, *[(own_pid, (), 30)] * 5, jobs_per_horse=2)

    assert [job.get_status() for job in jobs] == [JobStatus.FINISHED] * 5
    pids = [job.return_value() for job in jobs]
    assert pids[0] == pids[1] != pids[2] == pids[3] != pids[4]
