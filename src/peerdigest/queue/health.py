"""Is the queue doing its work: Redis answers and some worker has been seen lately; and where the jobs are."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from peerdigest.config import Settings
from peerdigest.db.models import JobStatus, SummaryJob, utcnow
from peerdigest.queue.connection import answers
from peerdigest.queue.maintenance import queue_stats


def job_counts(session: Session) -> dict[str, int]:
    """How many jobs the database has in each status (every status present, zero or not)."""
    found = dict(session.execute(select(SummaryJob.status, func.count()).group_by(SummaryJob.status)).all())
    return {status.value: found.get(status.value, 0) for status in JobStatus}


@dataclass
class Health:
    redis_reachable: bool
    workers: list[dict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not self.problems


def check(redis: Redis, settings: Settings, now: datetime | None = None) -> Health:
    """Redis answers, and at least one worker sent a heartbeat within WORKER_HEARTBEAT_MAX_AGE seconds.

    RQ's workers beat while they run a job and each time their wait for one
    ends (every worker TTL less 15 s, 405 s by default), so the default age
    of 480 s is what RQ itself allows before it forgets a worker.
    """
    now = now or utcnow()
    if not answers(redis):
        return Health(False, problems=["Redis does not answer: no job can be queued or run."])
    try:
        workers = queue_stats(redis)["workers"]
    except RedisError as exc:
        return Health(False, problems=[f"Redis stopped answering ({type(exc).__name__})."])
    max_age = timedelta(seconds=settings.worker_heartbeat_max_age)
    beats = [datetime.fromisoformat(w["last_heartbeat"]) for w in workers if w["last_heartbeat"]]
    if not any(now - beat <= max_age for beat in beats):
        seen = f"the last heartbeat was at {max(beats).isoformat()}" if beats else "none is registered"
        return Health(
            True,
            workers,
            [f"No worker has sent a heartbeat in the last {settings.worker_heartbeat_max_age} s ({seen}): "
             "queued jobs are not being run. Start one with `peerdigest worker`."],
        )
    return Health(True, workers)
