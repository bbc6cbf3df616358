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

A lease alone is not enough: it lasts JOB_TIMEOUT + 60 s, and a Redis that keeps
an append-only file brings it back after a restart. A job in its LLM call when
Redis died completes (the summary in hand is stored), but cannot release its
slot; after an outage or two every slot belonged to a finished job and nothing
ran for minutes. So a slot is also tied to its job's row: the reconciler frees,
within one pass, every slot whose job is no longer `processing` (`held`, `free`;
see `queue.reconcile`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

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

# KEYS[1]: the holders; ARGV: holder, the lease end it was seen with. Frees the slot only if
# nobody renewed it since it was seen (a re-run of the job takes its own slot again).
_FREE = """
local lease_end = redis.call('ZSCORE', KEYS[1], ARGV[1])
if lease_end and tonumber(lease_end) == tonumber(ARGV[2]) then
    return redis.call('ZREM', KEYS[1], ARGV[1])
end
return 0
"""


@dataclass(frozen=True)
class Slot:
    """One held LLM slot, as seen at one moment."""

    job_id: str  # its holder
    lease_end: float  # Redis time when the lease ends; `free` compares it
    held_for: float  # seconds since it was taken (or renewed), from the lease JOB_TIMEOUT gives
    lease_left: float  # seconds until the lease ends by itself


def lease(settings: Settings) -> int:
    """Seconds a slot is held at most without its holder releasing it."""
    return settings.job_timeout + HARD_KILL_GRACE


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
    waited = False
    while not acquire(keys=[KEY], args=[holder, settings.llm_max_concurrency, lease(settings)]):
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
        log.warning(
            "job %s: LLM slot not released (Redis: %s); the reconciler frees it once Redis answers", holder, exc
        )


def release_stopped(job: Job, connection: Redis) -> None:
    """RQ `on_stopped` callback: a job stopped on request gives its slot back at once."""
    _release(connection, job.id)


def held(redis: Redis, settings: Settings) -> list[Slot]:
    """Every slot held now, the longest held first."""
    seconds, micros = redis.time()
    now = seconds + micros / 1_000_000
    return [
        Slot(member.decode(), lease_end, held_for=now - (lease_end - lease(settings)), lease_left=lease_end - now)
        for member, lease_end in redis.zrange(KEY, 0, -1, withscores=True)
        if lease_end > now
    ]


def free(redis: Redis, slot: Slot) -> bool:
    """Free a slot whose job no longer runs, unless it was taken again since `slot` was seen; whether it was freed."""
    return bool(redis.register_script(_FREE)(keys=[KEY], args=[slot.job_id, repr(slot.lease_end)]))
