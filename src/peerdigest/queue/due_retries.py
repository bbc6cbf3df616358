"""Retries that are due, but that no RQ scheduler is alive to queue: the reconciler queues them.

A retry waits in its queue's `ScheduledJobRegistry` until an RQ scheduler moves
it back onto the queue. Those schedulers run as children of the workers, one
per queue at a time (a Redis lock per queue, `rq:scheduler-lock:<queue>`). When
every one of them is gone (they die with a lost Redis connection, and RQ's
worker looks after its child only every ten minutes), due retries wait
unseen: the row says `queued`, Redis says "scheduled", and nothing is wrong
for the reconciler to see.

So each reconciler pass does the scheduler's work for every queue whose lock
nobody holds, with RQ's own scheduler code run once (`RQScheduler.acquire_locks`
and `enqueue_scheduled_jobs`): holding the lock, it can never race a live
scheduler into queuing a job twice. A lock whose holder stopped sending
heartbeats (a hung or killed scheduler keeps its lock for up to a minute) is
released first.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta

from redis import Redis
from rq.queue import Queue
from rq.registry import ScheduledJobRegistry
from rq.scheduler import SCHEDULER_KEY_TEMPLATE, RQScheduler
from rq.scripts import release_lock
from rq.utils import current_timestamp, now, utcparse

log = logging.getLogger(__name__)

# An RQ scheduler beats every second (its interval); one silent this long holds its lock, but is dead or hung.
SCHEDULER_SILENT_AFTER = 15


def promote(redis: Redis, queues: Iterable[Queue]) -> list[str]:
    """Queue the due retries of every queue no live RQ scheduler looks after; returns the ids queued."""
    names = [queue.name for queue in queues]
    for name in names:
        _free_if_silent(redis, name)
    # WARNING: RQ logs every lock it takes at INFO, which once a pass would be noise.
    scheduler = RQScheduler(names, connection=redis, logging_level=logging.WARNING)
    scheduler.acquire_locks()
    try:
        due = [
            job_id
            for name in sorted(scheduler.acquired_locks)
            for job_id in ScheduledJobRegistry(name, connection=redis).get_jobs_to_schedule(current_timestamp())
        ]
        if due:
            scheduler.enqueue_scheduled_jobs()
    finally:
        scheduler.release_locks()
        scheduler.connection.connection_pool.disconnect()  # RQ made a pool of its own for it
    for job_id in due:
        log.warning("job %s: its retry was due but no RQ scheduler queued it; queued it", job_id)
    return due


def _free_if_silent(redis: Redis, queue_name: str) -> None:
    key = RQScheduler.get_locking_key(queue_name)
    holder = redis.get(key)
    if holder is None:
        return
    holder = holder.decode()
    beat = redis.hget(SCHEDULER_KEY_TEMPLATE % holder, "last_heartbeat")
    if beat is not None and now() - utcparse(beat.decode()) < timedelta(seconds=SCHEDULER_SILENT_AFTER):
        return
    if release_lock(redis, key, holder):
        log.warning(
            "RQ scheduler %s holds the lock of queue %s but has sent no heartbeat for %ds; released it",
            holder, queue_name, SCHEDULER_SILENT_AFTER,
        )
