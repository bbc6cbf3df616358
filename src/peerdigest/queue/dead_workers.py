"""The jobs of a worker that died on this machine go back to their queue as soon as a new worker starts here.

The reconciler hands back a job whose heartbeats stopped for JOB_ABANDONED_AFTER
seconds, on its RECONCILE_INTERVAL: with the defaults up to three minutes after
its worker was killed (OOM killer, `kill -9`), and then the job runs again. A
worker on the same machine can tell at once: RQ registers each worker with its
host and pid, and when that process is gone, so is its run (the work horse
dies with its worker: `pool.children_die_with_parent`). A pool starts a new
worker within a second of one dying, and `peerdigest run` (or systemd) starts
a lone worker again, so the new worker's start is where the job is handed back.

Workers on other machines are left to the reconciler: their pids say nothing here.
So every machine (or container) needs a host name of its own.
"""

from __future__ import annotations

import logging
import socket

import psutil
from redis import Redis
from redis.exceptions import RedisError
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.worker import Worker
from sqlalchemy import select

from peerdigest.config import Settings
from peerdigest.db.models import JobStatus, SummaryJob
from peerdigest.db.session import session_scope
from peerdigest.queue import lifecycle

log = logging.getLogger(__name__)

# A pid is reused only after the pid space wrapped; a process younger than the worker's
# registration (give or take clock rounding) is another one.
BIRTH_SLACK = 1.0


def hand_back_their_jobs(settings: Settings, redis: Redis) -> int:
    """Hand back every running job whose worker was a process on this machine that no longer runs; how many."""
    with session_scope(settings.database_url) as session:
        rows = list(session.scalars(
            select(SummaryJob).where(SummaryJob.status == JobStatus.processing, SummaryJob.worker_name.is_not(None))
        ))
    handed = 0
    for row in rows:
        pid = _dead_here(redis, row.worker_name)
        if pid is None:
            continue
        with session_scope(settings.database_url) as session:
            why = f"its worker (pid {pid} on this machine) died"
            if lifecycle.hand_back(session, redis, settings, row, why, _rq_job(redis, row.job_id)):
                handed += 1
    return handed


def _dead_here(redis: Redis, worker_name: str) -> int | None:
    """The pid of the worker so named if it ran on this machine and is gone; else None (alive, elsewhere, unknown)."""
    worker = Worker.find_by_key(Worker.redis_worker_namespace_prefix + worker_name, connection=redis)
    if worker is None or worker.hostname != socket.gethostname() or not worker.pid:
        return None
    try:
        started = psutil.Process(worker.pid).create_time()
    except psutil.NoSuchProcess:
        return worker.pid
    if worker.birth_date is not None and started > worker.birth_date.timestamp() + BIRTH_SLACK:
        return worker.pid  # its pid went to a newer process
    return None


def _rq_job(redis: Redis, job_id: str) -> Job | None:
    try:
        return Job.fetch(job_id, connection=redis)
    except NoSuchJobError:
        return None
    except RedisError:
        raise
    except Exception:
        return None  # unreadable: the hand-back deletes the hash and re-creates the job from its row
