"""The reconciler brings Redis in line with the database of record, and repairs each difference once.

Each test puts Redis in the state a fault leaves behind, with RQ's own calls
(a worker's start bookkeeping, a failure result), then runs a pass.
"""

from datetime import timedelta

import pytest
from rq import Queue
from rq.executions import Execution
from rq.job import Job
from rq.job import JobStatus as RQStatus
from rq.registry import FailedJobRegistry
from rq.results import Result

from peerdigest.db.models import JobStatus, SummaryJob, utcnow
from peerdigest.db.session import session_scope
from peerdigest.dev.embedded_redis import free_port
from peerdigest.queue.queues import summary_queues
from peerdigest.queue import lifecycle
from peerdigest.queue.jobs import find
from peerdigest.queue.connection import connect
from peerdigest.queue.reconcile import LOCK_KEY, WEBHOOK_GRACE, reconcile
from tests.conftest import run_cli
from tests.support.api import PREFIX, TEACHER, api_client
from tests.support.feedback import store_summary


@pytest.fixture
def school(demo_school):
    return demo_school.model_copy(update={"job_abandoned_after": 4, "job_heartbeat_interval": 1})


def _queue(settings, *students: int) -> list[str]:
    client = api_client(settings)
    return [client.post(f"{PREFIX}/evaluation/56/student/{s}/queue", headers=TEACHER).json()["job_id"] for s in students]


def _row(settings, job_id: str) -> SummaryJob:
    with session_scope(settings.database_url) as session:
        return find(session, job_id)


def _waiting(redis) -> list[str]:
    return sorted(job_id for queue in summary_queues(redis) for job_id in queue.get_job_ids())


def _started_by_a_worker_that_died(settings, redis, job_id: str, seconds_ago: float) -> None:
    """What a worker leaves when it dies mid-job: RQ's start bookkeeping, a row in `processing`, no heartbeat since."""
    job = Job.fetch(job_id, connection=redis)
    Queue(job.origin, connection=redis).remove(job)
    with redis.pipeline() as pipeline:
        job.prepare_for_execution("lost-worker", pipeline)
        pipeline.execute()
    then = utcnow() - timedelta(seconds=seconds_ago)
    job.heartbeat(then, ttl=60)
    with session_scope(settings.database_url) as session:
        lifecycle.start(session, job_id, "lost-worker")
        find(session, job_id).started_at = then


def test_queued_jobs_redis_lost_are_queued_again_once(school, redis):
    job_ids = _queue(school, 19, 20, 21)
    redis.flushdb()

    first = reconcile(school, redis)
    assert (first.checked, first.requeued, first.repairs) == (3, 3, 3)
    assert _waiting(redis) == sorted(job_ids)
    assert all(_row(school, j).enqueued_at is not None for j in job_ids)

    second = reconcile(school, redis)
    assert second.repairs == 0, "a second pass finds nothing left to repair"
    assert _waiting(redis) == sorted(job_ids), "and queues nothing twice"


def test_a_job_popped_by_a_worker_that_died_before_starting_it_is_queued_again(school, redis):
    (job_id,) = _queue(school, 19)
    Queue("summaries-normal", connection=redis).pop_job_id()  # the job hash still says queued

    assert reconcile(school, redis).requeued == 1
    assert _waiting(redis) == [job_id]


def test_an_abandoned_run_runs_again_and_counts_as_an_attempt(school, redis):
    (job_id,) = _queue(school, 19)
    _started_by_a_worker_that_died(school, redis, job_id, seconds_ago=10)

    report = reconcile(school, redis)

    assert report.rerun == 1
    row = _row(school, job_id)
    assert (row.status, row.attempts) == (JobStatus.queued, 1)
    assert "stopped sending heartbeats on attempt 1" in row.error_message
    assert _waiting(redis) == [job_id]
    assert Job.fetch(job_id, connection=redis).get_status() == RQStatus.QUEUED, "re-created from the row"


def test_an_abandoned_run_whose_execution_vanished_is_handed_back_in_full(school, redis):
    (job_id,) = _queue(school, 19)
    _started_by_a_worker_that_died(school, redis, job_id, seconds_ago=10)
    job = Job.fetch(job_id, connection=redis)
    with redis.pipeline() as pipeline:
        execution = Execution.create(job, ttl=60, pipeline=pipeline, worker_name="lost-worker")
        pipeline.execute()
    redis.delete(execution.key)  # expired: the killed horse stopped renewing it; RQ's index still lists it

    assert reconcile(school, redis).rerun == 1
    assert _row(school, job_id).status == JobStatus.queued
    assert _waiting(redis) == [job_id], "queued again in the same pass, not left for the next one"
    assert not redis.exists(job.execution_registry.key)
    assert reconcile(school, redis).repairs == 0


def test_a_run_with_a_recent_heartbeat_is_left_alone(school, redis):
    (job_id,) = _queue(school, 19)
    _started_by_a_worker_that_died(school, redis, job_id, seconds_ago=1)

    assert reconcile(school, redis).repairs == 0
    assert _row(school, job_id).status == JobStatus.processing


def test_an_abandoned_run_without_attempts_left_fails(school, redis):
    school = school.model_copy(update={"max_retries": 0})
    (job_id,) = _queue(school, 19)
    _started_by_a_worker_that_died(school, redis, job_id, seconds_ago=10)

    assert reconcile(school, redis).abandoned == 1
    row = _row(school, job_id)
    assert row.status == JobStatus.failed and row.open_key is None
    assert row.error_message == "its worker stopped sending heartbeats on attempt 1 of 1"
    assert _waiting(redis) == [] and not Job.exists(job_id, connection=redis)


def test_a_run_finished_on_rq_completes_its_row_from_the_stored_summary(school, redis):
    (job_id,) = _queue(school, 19)
    _started_by_a_worker_that_died(school, redis, job_id, seconds_ago=1)
    with session_scope(school.database_url) as session:
        store_summary(session, 56, 19, summary_text="Written by the run, whose row update was lost.")
    Job.fetch(job_id, connection=redis).set_status(RQStatus.FINISHED)

    assert reconcile(school, redis).aligned == 1
    row = _row(school, job_id)
    assert row.status == JobStatus.completed
    assert row.result["summary_text"] == "Written by the run, whose row update was lost."


def test_a_job_a_refused_second_run_marked_finished_on_rq_is_left_to_the_run_still_going(school, redis):
    (job_id,) = _queue(school, 19)
    _started_by_a_worker_that_died(school, redis, job_id, seconds_ago=1)
    job = Job.fetch(job_id, connection=redis)
    with redis.pipeline() as pipeline:
        Execution.create(job, ttl=60, pipeline=pipeline, worker_name="busy-worker")  # the first run, beating
        pipeline.execute()
    job.set_status(RQStatus.FINISHED)  # what a duplicate entry's refused start leaves on the job

    assert reconcile(school, redis).repairs == 0
    assert _row(school, job_id).status == JobStatus.processing, "the first run ends the row itself"


def test_a_job_rq_failed_before_it_began_fails_with_rqs_reason(school, redis):
    (job_id,) = _queue(school, 19)
    job = Job.fetch(job_id, connection=redis)
    Queue(job.origin, connection=redis).remove(job)
    with redis.pipeline() as pipeline:
        job.set_status(RQStatus.FAILED, pipeline=pipeline)
        Result.create_failure(job, ttl=60, exc_string="Traceback ...\nImportError: no module named x", pipeline=pipeline)
        pipeline.execute()

    assert reconcile(school, redis).aligned == 1
    row = _row(school, job_id)
    assert row.status == JobStatus.failed
    assert row.error_message == "RQ could not run it: ImportError: no module named x"


def test_a_job_cancelled_on_rq_is_cancelled_here(school, redis):
    (job_id,) = _queue(school, 19)
    Job.fetch(job_id, connection=redis).cancel()

    assert reconcile(school, redis).aligned == 1
    row = _row(school, job_id)
    assert row.status == JobStatus.cancelled and row.cancelled_at is not None


def test_an_unreadable_job_hash_is_set_aside_and_its_row_fails(school, redis):
    (job_id,) = _queue(school, 19)
    redis.hset(Job.key_for(job_id), "data", b"\x78\x9c garbage")

    assert reconcile(school, redis).set_aside == 1
    row = _row(school, job_id)
    assert row.status == JobStatus.failed and "could not be read" in row.error_message
    assert job_id in FailedJobRegistry("summaries-normal", connection=redis).get_job_ids()
    assert _waiting(redis) == [], "no worker pops it again"


def test_a_pass_skips_while_another_holds_the_lock(school, redis):
    _queue(school, 19)
    redis.flushdb()
    with redis.lock(LOCK_KEY, timeout=30):
        report = reconcile(school, redis)
    assert report.skipped and report.repairs == 0


@pytest.mark.slow
def test_jobs_recover_prints_what_it_repaired(process_demo_school, redis):
    _queue(process_demo_school, 19, 20)
    redis.flushdb()

    result = run_cli(process_demo_school, "jobs", "recover")

    assert result.returncode == 0, result.stderr
    assert "requeued" in result.stdout and "Checked 2 open job(s); 2 repaired." in result.stdout
    assert len(_waiting(redis)) == 2


def test_a_webhook_redis_missed_when_its_job_ended_is_announced_by_the_reconciler(school, redis):
    client = api_client(school)
    job_id = client.post(
        f"{PREFIX}/evaluation/56/student/19/queue", json={"webhook_url": "http://127.0.0.1:9/hook"}, headers=TEACHER
    ).json()["job_id"]
    with session_scope(school.database_url) as session:  # it ends while Redis is away
        lifecycle.fail(session, connect(f"redis://127.0.0.1:{free_port()}/0"), school, job_id, "evaluation 56 is gone")
    assert _row(school, job_id).webhook_pending
    webhooks = Queue("webhooks", connection=redis)
    assert reconcile(school, redis).announced == 0, "not while the job's own announcement may still be on its way"

    with session_scope(school.database_url) as session:
        find(session, job_id).completed_at -= timedelta(seconds=WEBHOOK_GRACE + 1)
    assert reconcile(school, redis).announced == 1
    assert not _row(school, job_id).webhook_pending
    assert webhooks.count == 1
    assert reconcile(school, redis).announced == 0, "announced once"
