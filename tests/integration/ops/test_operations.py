"""The operations page's data: queues, workers with their liveness, jobs per hour, failed jobs, reconciler, LLM."""

from datetime import timedelta

from rq import Worker

from peerdigest.db.models import JobStatus, SummaryJob, utcnow
from peerdigest.db.session import session_scope
from peerdigest.ops.operations import overview
from peerdigest.queue import repairs
from peerdigest.queue.connection import connect
from peerdigest.queue.enqueue import new_job_id
from peerdigest.queue.queues import summary_queues
from tests.support.feedback import failed_job, store_summary



def _job(session, student: int, status: JobStatus, created_hours_ago: float) -> None:
    session.add(
        SummaryJob(
            job_id=new_job_id(56, student), evaluation_id=56, student_id=student, status=status,
            created_at=utcnow() - timedelta(hours=created_hours_ago),
        )
    )


def test_the_overview_counts_jobs_per_hour_and_lists_failures_workers_reconciler_and_llm(demo_school, redis):
    now = utcnow()
    with session_scope(demo_school.database_url) as session:
        _job(session, 19, JobStatus.completed, 0)
        _job(session, 20, JobStatus.completed, 0)
        _job(session, 21, JobStatus.queued, 0)
        _job(session, 22, JobStatus.cancelled, 5)
        _job(session, 23, JobStatus.completed, 30)  # older than the window
        failed = failed_job(session, redis, demo_school, 56, 24, error_message="LLM endpoint answered 500").job_id
        for student, generation_method, ms in ((19, "ai", 2000), (20, "ai", 4000), (21, "fallback", 100)):
            summary = store_summary(session, 56, student)
            summary.generation_method, summary.duration_ms = generation_method, ms
    worker = Worker(summary_queues(redis), connection=redis, name="worker-a")
    worker.register_birth()
    worker.heartbeat()
    repairs.record(redis, 0.25, checked=3, repairs={"requeued": 2, "rerun": 0})

    with session_scope(demo_school.database_url) as session:
        ops = overview(session, redis, demo_school, now=now + timedelta(seconds=1))
        assert ops.redis_reachable
        assert [q["name"] for q in ops.queues][:3] == ["summaries-high", "summaries-normal", "summaries-low"]
        assert [(w.name, w.alive) for w in ops.workers] == [("worker-a", True)]
        assert len(ops.hours) == 24
        assert ops.hours[-1].counts == {"completed": 2, "failed": 1, "cancelled": 0, "open": 1}
        assert sum(bar.total for bar in ops.hours) == 5
        assert [job.job_id for job in ops.failed] == [failed]
        assert (ops.last_pass.checked, ops.last_pass.repaired) == (3, 2)
        assert ops.repair_totals == {"requeued": 2, "rerun": 0}
        assert (ops.llm.written, ops.llm.fell_back, ops.llm.median_seconds) == (2, 1, 4.0)
        assert round(ops.llm.error_rate, 2) == 0.33

        later = overview(session, redis, demo_school, now=now + timedelta(hours=1))
        assert [(w.name, w.alive) for w in later.workers] == [("worker-a", False)]  # no heartbeat for an hour


def test_without_redis_the_databases_part_is_still_shown(demo_school):
    gone = connect("redis://127.0.0.1:1/0")
    with session_scope(demo_school.database_url) as session:
        failed_job(session, gone, demo_school, 56, 19)
    with session_scope(demo_school.database_url) as session:
        ops = overview(session, gone, demo_school)
        assert not ops.redis_reachable and ops.queues == [] and ops.workers == []
        assert len(ops.failed) == 1 and ops.hours[-1].counts["failed"] == 1
