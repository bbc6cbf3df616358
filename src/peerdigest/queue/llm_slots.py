"""At most LLM_MAX_CONCURRENCY LLM calls in flight, across every worker on every machine.

Why not RQ's own `RateLimit(key, concurrency)`: it caps the jobs that are
*queued or running* under a key and parks the rest in a sorted set of its own,
promoting them oldest first. That fights our priority queues: once a flood of
low jobs holds the slots, a high job waits in RQ's rate-limited set until the
flood has gone through, while the promise is "no longer than the job in hand".
It would also have to be decided at enqueue time, but whether a job calls the
LLM at all is only known when it runs (the builtin summarizer never does), and
a job holds its slot while it reads the database, not only during the call.

So the cap sits around the LLM call itself: a counting semaphore on Redis. Its
holders live in a sorted set scored by the end of their lease. A holder that
dies without releasing (a work horse killed by a stop command, a timeout or the
OOM killer) loses its slot when the lease ends, so a crash never shrinks the
cap for good. A stopped job also hands its slot back at once through RQ's
`on_stopped` callback (`release_stopped`), which runs in the worker after the
horse is gone.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

from redis import Redis
from redis.exceptions import RedisError
from rq.job import Job

from peerdigest.config import Settings

log = logging.getLogger(__name__)

KEY = "peerdigest:llm-slots"
POLL_INTERVAL = 0.1  # seconds between two tries for a slot while all are taken
# RQ kills a work horse that outlives its job timeout by this much (rq.worker.Worker.monitor_work_horse);
# a lease this long can never end while its holder still runs.
HARD_KILL_GRACE = 60

# KEYS[1]: the holders; ARGV: holder, cap, lease seconds. Redis' own clock, so workers on
# machines with skewed clocks agree on whose lease has ended. A holder that asks again (its
# job re-run after a crash) renews its own slot rather than wait for its own lease to end.
_ACQUIRE = """
local now = redis.call('TIME')
now = tonumber(now[1]) + tonumber(now[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
    redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
    return 1
end
return 0
"""


@contextmanager
def llm_slot(redis: Redis, settings: Settings, holder: str) -> Iterator[None]:
    """Hold one LLM slot while the block runs, waiting for a free one first.

    Without an LLM endpoint (the builtin summarizer) there is nothing to cap and
    the block runs at once. `holder` is the job id: one execution at a time per job.
    """
    if not settings.llm_base_url:
        yield
        return
    acquire = redis.register_script(_ACQUIRE)
    lease = settings.job_timeout + HARD_KILL_GRACE
    waited = False
    while not acquire(keys=[KEY], args=[holder, settings.llm_max_concurrency, lease]):
        if not waited:
            log.info("job %s: all %d LLM slots are taken; waiting for one", holder, settings.llm_max_concurrency)
            waited = True
        time.sleep(POLL_INTERVAL)
    try:
        yield
    finally:
        _release(redis, holder)


def _release(redis: Redis, holder: str) -> None:
    try:
        redis.zrem(KEY, holder)
    except RedisError as exc:
        # By now the LLM has answered: a summary in hand is never failed over its slot, which
        # simply ends with its lease.
        log.warning("job %s: LLM slot not released (Redis: %s); it frees itself when its lease ends", holder, exc)


def release_stopped(job: Job, connection: Redis) -> None:
    """RQ `on_stopped` callback: a job stopped on request gives its slot back at once."""
    _release(connection, job.id)
