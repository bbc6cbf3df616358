"""Run an RQ worker on the summary queues, and keep it running through Redis outages.

RQ's own worker already retries a lost connection while it waits for a job
(with bounded exponential back-off), but a connection lost at any other
moment ends `Worker.work()`. This module only adds the outer loop RQ lacks:
start a fresh worker after such an exit, unless a stop was asked for.
"""

from __future__ import annotations

import logging
import signal
import time

from redis import Redis
from rq import Worker

from peerdigest.queue.connection import answers, describe, ensure_binary_safe
from peerdigest.queue.enqueue import summary_queues

log = logging.getLogger(__name__)

MAX_RECONNECT_WAIT = 60  # seconds between attempts at most, both in RQ's loop and ours


def build_worker(redis: Redis, name: str | None = None) -> Worker:
    worker = Worker(summary_queues(ensure_binary_safe(redis)), connection=redis, name=name)
    worker.max_connection_wait_time = MAX_RECONNECT_WAIT
    return worker


def run(redis: Redis, *, burst: bool = False, name: str | None = None) -> int:
    """Work until stopped (or, in burst mode, until the queues are empty). Returns an exit code."""
    wait = 1.0
    stop = {"requested": False}
    previous = signal.getsignal(signal.SIGTERM)

    def remember_stop(signum, frame):
        stop["requested"] = True

    while True:
        worker = build_worker(redis, name)
        try:
            worker.work(burst=burst, with_scheduler=True, logging_level="INFO")
        finally:
            # RQ installs its own SIGINT/SIGTERM handlers for warm shutdown and records
            # when one fired; RQ has no public "was a stop asked for" flag.
            stop["requested"] = stop["requested"] or worker._shutdown_requested_date is not None
            signal.signal(signal.SIGTERM, previous)
        if burst or stop["requested"]:
            return 0
        log.warning("worker %s stopped unexpectedly; reconnecting to %s in %.0fs", worker.name, describe_url(redis), wait)
        signal.signal(signal.SIGTERM, remember_stop)
        _sleep_until_answers(redis, wait, stop)
        if stop["requested"]:
            return 0
        wait = min(wait * 2, MAX_RECONNECT_WAIT)


def _sleep_until_answers(redis: Redis, wait: float, stop: dict) -> None:
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and not stop["requested"]:
        time.sleep(0.2)
    while not stop["requested"] and not answers(redis):
        log.warning("Redis at %s does not answer yet; trying again in %ds", describe_url(redis), MAX_RECONNECT_WAIT)
        deadline = time.monotonic() + MAX_RECONNECT_WAIT
        while time.monotonic() < deadline and not stop["requested"] and not answers(redis):
            time.sleep(1)


def describe_url(redis: Redis) -> str:
    kwargs = redis.connection_pool.connection_kwargs
    return describe(f"redis://{kwargs.get('host', '?')}:{kwargs.get('port', '?')}/{kwargs.get('db', 0)}")
