"""Is the queue doing its work: Redis answers and some worker has been seen lately; and where the jobs are."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from peerdigest.config import Settings
from peerdigest.db.models import Evaluation, JobStatus, SummaryJob, utcnow
from peerdigest.queue.connection import answers
from peerdigest.queue.maintenance import workers as registered_workers


def job_counts(session: Session, school_id: int | None = None) -> dict[str, int]:
    """How many jobs the database has in each status (every status present, zero or not); of one school if given."""
    query = select(SummaryJob.status, func.count()).group_by(SummaryJob.status)
    if school_id is not None:
        query = query.join(Evaluation, Evaluation.id == SummaryJob.evaluation_id).where(Evaluation.school_id == school_id)
    found = dict(session.execute(query).all())
    return {status.value: found.get(status.value, 0) for status in JobStatus}


@dataclass
class Health:
    redis_reachable: bool
    workers: list[dict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not self.problems


def is_alive(worker: dict, settings: Settings, now: datetime) -> bool:
    """The one definition of a live worker, for `doctor`, `/queue/health` and the operations page.

    RQ lists a worker (`maintenance.workers`) from its birth until its death is
    registered or its key expires; a worker killed hard stays listed until then.
    So it must also have sent a heartbeat within WORKER_HEARTBEAT_MAX_AGE
    seconds: our workers beat every JOB_HEARTBEAT_INTERVAL, idle or busy.
    """
    beat = worker["last_heartbeat"]
    return beat is not None and now - datetime.fromisoformat(beat) <= timedelta(seconds=settings.worker_heartbeat_max_age)


def live_workers(redis: Redis, settings: Settings, now: datetime | None = None) -> list[dict]:
    """The workers on our queues that are alive (`is_alive`)."""
    now = now or utcnow()
    return [worker for worker in registered_workers(redis) if is_alive(worker, settings, now)]


def check(redis: Redis, settings: Settings, now: datetime | None = None) -> Health:
    """Redis answers, and at least one worker is alive (`is_alive`)."""
    now = now or utcnow()
    if not answers(redis):
        return Health(False, problems=["Redis does not answer: no job can be queued or run."])
    try:
        workers = registered_workers(redis)
    except RedisError as exc:
        return Health(False, problems=[f"Redis stopped answering ({type(exc).__name__})."])
    if not any(is_alive(worker, settings, now) for worker in workers):
        beats = [datetime.fromisoformat(w["last_heartbeat"]) for w in workers if w["last_heartbeat"]]
        seen = f"the last heartbeat was at {max(beats).isoformat()}" if beats else "none is registered"
        return Health(
            True,
            workers,
            [f"No worker has sent a heartbeat in the last {settings.worker_heartbeat_max_age} s ({seen}): "
             "queued jobs are not being run. Start one with `peerdigest worker`."],
        )
    return Health(True, workers)
