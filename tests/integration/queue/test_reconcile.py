"""The reconciler brings Redis in line with the database of record, and repairs each difference once.

Each test puts Redis in the state a fault leaves behind, with RQ's own calls
(a worker's start bookkeeping, a failure result), then runs a pass.
"""

import os
import socket
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from rq import Queue, Worker
from rq.executions import Execution
from rq.job import Job
from rq.job import JobStatus as RQStatus
from rq.registry import CanceledJobRegistry, FailedJobRegistry, FinishedJobRegistry, StartedJobRegistry
from rq.results import Result

from peerdigest.db.models import JobStatus, SummaryJob, utcnow
from peerdigest.db.session import session_scope
from peerdigest.dev.embedded_redis import free_port
from peerdigest.domain.feedback import collect
from peerdigest.queue.llm_slots import KEY as LLM_SLOTS
from peerdigest.queue.queues import summary_queues
from peerdigest.queue import lifecycle
from peerdigest.queue.jobs import find
from peerdigest.queue.connection import connect
from peerdigest.queue.reconcile import LOCK_KEY, LOCK_TTL, WEBHOOK_GRACE, reconcile
from peerdigest.summarize import Summary
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


def test_a_retry_whose_horse_died_before_rq_recorded_it_runs_again_instead_of_failing(school, redis):
    # A Redis failover mid-job: the attempt lost Redis, the row records the retry, and the horse dies as RQ's
    # own bookkeeping of that retry finds no Redis; once the new master answers, the worker files the run as failed.
    (job_id,) = _queue(school, 19)
    _started_by_a_worker_that_died(school, redis, job_id, seconds_ago=1)
    with session_scope(school.database_url) as session:
        lifecycle.retry_later(session, job_id, "ConnectionError: Error 111 connecting", delay=1)
    job = Job.fetch(job_id, connection=redis)
    Worker([job.origin], connection=redis).handle_job_failure(
        job, Queue(job.origin, connection=redis), exc_string="Work-horse terminated unexpectedly; waitpid returned 256; "
    )

    assert reconcile(school, redis).aligned == 1
    row = _row(school, job_id)
    assert (row.status, row.attempts) == (JobStatus.queued, 1), "queued again; the lost run counted once"
    assert _waiting(redis) == [job_id]
    assert job_id not in FailedJobRegistry(job.origin, connection=redis), "RQ no longer lists it as failed"


def test_a_queued_job_rq_abandoned_before_it_began_runs_again_instead_of_failing(school, redis):
    # Its worker popped it and lost Redis before the task began; RQ's own clean-up then calls the run abandoned.
    (job_id,) = _queue(school, 19)
    job = Job.fetch(job_id, connection=redis)
    Queue(job.origin, connection=redis).remove(job)
    with redis.pipeline() as pipeline:
        job.prepare_for_execution("lost-worker", pipeline)
        Execution.create(job, ttl=60, pipeline=pipeline, worker_name="lost-worker")
        pipeline.execute()
    StartedJobRegistry(job.origin, connection=redis).cleanup(timestamp=time.time() + 3600)
    assert Job.fetch(job_id, connection=redis).get_status() == RQStatus.FAILED

    assert reconcile(school, redis).aligned == 1
    row = _row(school, job_id)
    assert (row.status, row.attempts) == (JobStatus.queued, 0)
    assert _waiting(redis) == [job_id]


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
    assert "(DeserializationError: invalid load key" in row.error_message, "the reason RQ's error keeps in its cause"
    assert job_id in FailedJobRegistry("summaries-normal", connection=redis).get_job_ids()
    assert _waiting(redis) == [], "no worker pops it again"


def test_a_pass_skips_while_another_holds_the_lock(school, redis):
    _queue(school, 19)
    redis.flushdb()
    with redis.lock(LOCK_KEY, timeout=30):
        report = reconcile(school, redis)
    assert report.skipped and report.repairs == 0
    redis.set(LOCK_KEY, f"{socket.gethostname()}:{os.getppid()}:a-live-process", ex=30)
    assert reconcile(school, redis).skipped, "nor while a live process on this machine holds it"


def test_a_turn_left_by_a_pass_of_this_process_that_lost_redis_does_not_hold_up_the_next(school, redis):
    redis.set(LOCK_KEY, f"{socket.gethostname()}:{os.getpid()}:{'0' * 32}", ex=LOCK_TTL)  # back from the append-only file

    assert not reconcile(school, redis).skipped
    assert not redis.exists(LOCK_KEY)


def test_a_turn_left_by_a_process_that_ended_is_freed(school, redis):
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    redis.set(LOCK_KEY, f"{socket.gethostname()}:{int(ended.stdout)}:{'0' * 32}", ex=LOCK_TTL)

    assert not reconcile(school, redis).skipped


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


def _ended_while_redis_was_away(settings, redis, job_id: str, end: JobStatus, last_beat: float = 10) -> None:
    """What a run that ended while Redis was away leaves once an append-only Redis is back: RQ still lists it
    as started (its last heartbeat `last_beat` seconds ago), it still holds its LLM slot, and its row has ended."""
    _started_by_a_worker_that_died(settings, redis, job_id, seconds_ago=last_beat)
    job = Job.fetch(job_id, connection=redis)
    with redis.pipeline() as pipeline:
        execution = Execution.create(job, ttl=600, pipeline=pipeline, worker_name="lost-worker")
        pipeline.execute()
    redis.hset(execution.key, "last_heartbeat", (utcnow() - timedelta(seconds=last_beat)).timestamp())
    redis.zadd(LLM_SLOTS, {job_id: time.time() + 600})
    away = connect(f"redis://127.0.0.1:{free_port()}/0")
    with session_scope(settings.database_url) as session:
        row = find(session, job_id)
        if end == JobStatus.completed:
            received = collect(session, row.evaluation_id, row.student_id)
            summary = Summary("Written while Redis was away.", "builtin")
            assert lifecycle.complete(session, away, settings, job_id, summary, received) is not None
        elif end == JobStatus.failed:
            assert lifecycle.fail(session, away, settings, job_id, "evaluation 56 is gone") is not None
        else:
            assert lifecycle.cancel(session, away, settings, job_id, by_id=None) is not None


def _slot_holders(redis) -> list[str]:
    return sorted(member.decode() for member in redis.zrange(LLM_SLOTS, 0, -1))


def test_llm_slots_of_jobs_no_longer_processing_are_freed_in_one_pass(school, redis):
    ended, retrying, running = _queue(school, 19, 20, 21)
    _ended_while_redis_was_away(school, redis, ended, JobStatus.completed)
    with session_scope(school.database_url) as session:  # an attempt failed; the slot was not released
        lifecycle.start(session, retrying, "a-worker")
        lifecycle.retry_later(session, retrying, "LLM endpoint answered 500", delay=60)
    _started_by_a_worker_that_died(school, redis, running, seconds_ago=1)  # alive: a heartbeat a second ago
    for holder in (retrying, running, "summary-56-99-nowhere"):
        redis.zadd(LLM_SLOTS, {holder: time.time() + 600})

    assert reconcile(school, redis).reclaimed == 3
    assert _slot_holders(redis) == [running], "the running job keeps its slot"
    assert reconcile(school, redis).reclaimed == 0


def test_an_abandoned_run_frees_its_llm_slot_in_the_pass_that_hands_it_back(school, redis):
    (job_id,) = _queue(school, 19)
    _started_by_a_worker_that_died(school, redis, job_id, seconds_ago=10)
    redis.zadd(LLM_SLOTS, {job_id: time.time() + 600})

    report = reconcile(school, redis)

    assert (report.rerun, report.reclaimed) == (1, 1)
    assert _slot_holders(redis) == []


def test_a_cancelled_job_keeps_its_slot_while_its_run_still_beats(school, redis):
    (job_id,) = _queue(school, 19)
    _ended_while_redis_was_away(school, redis, job_id, JobStatus.cancelled, last_beat=0)  # its horse not stopped yet

    assert reconcile(school, redis).reclaimed == 0
    assert _slot_holders(redis) == [job_id]


def test_a_completed_job_rq_called_abandoned_and_failed_is_filed_as_finished(school, redis):
    (job_id,) = _queue(school, 19)
    _ended_while_redis_was_away(school, redis, job_id, JobStatus.completed)
    # RQ's own clean-up once the run's execution expired: abandoned, so failed.
    StartedJobRegistry("summaries-normal", connection=redis).cleanup(timestamp=time.time() + 3600)
    assert job_id in FailedJobRegistry("summaries-normal", connection=redis).get_job_ids()

    assert reconcile(school, redis).refiled == 1
    assert job_id not in FailedJobRegistry("summaries-normal", connection=redis).get_job_ids()
    assert job_id in FinishedJobRegistry("summaries-normal", connection=redis).get_job_ids()
    assert Job.fetch(job_id, connection=redis).get_status() == RQStatus.FINISHED
    assert reconcile(school, redis).refiled == 0


@pytest.mark.parametrize("end", [JobStatus.completed, JobStatus.failed, JobStatus.cancelled])
def test_a_run_that_ended_while_redis_was_away_is_filed_where_its_row_says(school, redis, end):
    (job_id,) = _queue(school, 19)
    _ended_while_redis_was_away(school, redis, job_id, end)

    assert reconcile(school, redis).refiled == 1

    registry = {JobStatus.completed: FinishedJobRegistry, JobStatus.failed: FailedJobRegistry,
                JobStatus.cancelled: CanceledJobRegistry}[end]
    assert job_id in registry("summaries-normal", connection=redis).get_job_ids()
    assert StartedJobRegistry("summaries-normal", connection=redis).get_job_ids(cleanup=False) == []
    assert not redis.exists(Job.fetch(job_id, connection=redis).execution_registry.key)


def test_an_ended_job_whose_run_still_beats_is_left_to_its_worker(school, redis):
    (job_id,) = _queue(school, 19)
    _ended_while_redis_was_away(school, redis, job_id, JobStatus.completed, last_beat=0)

    assert reconcile(school, redis).refiled == 0
    assert StartedJobRegistry("summaries-normal", connection=redis).get_job_ids(cleanup=False) == [job_id]


def test_queue_entries_without_a_job_hash_are_dropped_and_a_queued_job_queued_again_once(school, redis):
    (job_id,) = _queue(school, 19)
    redis.delete(Job.key_for(job_id))
    redis.rpush("rq:queue:summaries-normal", "summary-56-99-nowhere")  # neither a job hash nor a row

    report = reconcile(school, redis)

    assert (report.dropped, report.requeued) == (2, 1)
    assert _waiting(redis) == [job_id]
    assert Job.fetch(job_id, connection=redis).get_status() == RQStatus.QUEUED
    assert reconcile(school, redis).repairs == 0


def test_an_unreadable_job_hash_on_a_queue_is_set_aside_though_its_job_ended(school, redis):
    (job_id,) = _queue(school, 19)
    with session_scope(school.database_url) as session:  # cancelled while Redis was away: still queued there
        lifecycle.cancel(session, connect(f"redis://127.0.0.1:{free_port()}/0"), school, job_id, by_id=None)
    redis.hset(Job.key_for(job_id), "data", b"\x78\x9c garbage")

    assert reconcile(school, redis).set_aside == 1
    assert _waiting(redis) == []
    assert job_id in FailedJobRegistry("summaries-normal", connection=redis).get_job_ids()
    assert _row(school, job_id).status == JobStatus.cancelled, "an ended row stays as it ended"
