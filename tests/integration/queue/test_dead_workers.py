"""A starting worker hands back at once the jobs of workers that died on this machine, and only those."""

import os
import subprocess
import sys

from rq import Queue, Worker
from rq.job import Job

from peerdigest.db.models import JobStatus
from peerdigest.db.session import session_scope
from peerdigest.queue import lifecycle
from peerdigest.queue.dead_workers import hand_back_their_jobs
from peerdigest.queue.jobs import find
from peerdigest.queue.queues import summary_queues
from tests.support.api import PREFIX, TEACHER, api_client


def _a_pid_that_has_ended() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def _started_by(settings, redis, student: int, name: str, pid: int, hostname: str | None = None) -> str:
    """A job in `processing`, run by the RQ worker `name` registered with this pid (and this host unless named)."""
    job_id = api_client(settings).post(f"{PREFIX}/evaluation/56/student/{student}/queue", headers=TEACHER).json()["job_id"]
    worker = Worker(["summaries-normal"], connection=redis, name=name)
    worker.pid = pid
    worker.hostname = hostname or worker.hostname
    worker.register_birth()
    job = Job.fetch(job_id, connection=redis)
    Queue(job.origin, connection=redis).remove(job)
    with redis.pipeline() as pipeline:
        job.prepare_for_execution(name, pipeline)
        pipeline.execute()
    with session_scope(settings.database_url) as session:
        lifecycle.start(session, job_id, name)
    return job_id


def _status(settings, job_id: str) -> JobStatus:
    with session_scope(settings.database_url) as session:
        return find(session, job_id).status


def _waiting(redis) -> list[str]:
    return [job_id for queue in summary_queues(redis) for job_id in queue.get_job_ids()]


def test_the_job_of_a_worker_gone_from_this_machine_is_queued_again_at_once(demo_school, redis):
    dead = _started_by(demo_school, redis, 19, "gone", _a_pid_that_has_ended())
    alive = _started_by(demo_school, redis, 20, "alive", os.getpid())
    elsewhere = _started_by(demo_school, redis, 21, "elsewhere", _a_pid_that_has_ended(), hostname="another-machine")

    assert hand_back_their_jobs(demo_school, redis) == 1
    assert [_status(demo_school, j) for j in (dead, alive, elsewhere)] == ["queued", "processing", "processing"]
    assert _waiting(redis) == [dead], "it is on its queue again; a live worker's job and another machine's are not"
    with session_scope(demo_school.database_url) as session:
        assert "its worker (pid" in find(session, dead).error_message

    assert hand_back_their_jobs(demo_school, redis) == 0, "handed back once"
