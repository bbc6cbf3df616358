"""What `GET /metrics` shows, in Prometheus' text format.

Workers, the API and the scheduler are separate processes, often on separate
machines, and a worker runs its jobs in a forked work horse that is replaced
after a few hundred jobs or when it dies. prometheus-client's in-process metrics
would die with each horse, and its multiprocess mode needs one directory shared
by every process on one machine and leaves a file per process id behind. So
nothing is counted in process memory:

- what the database of record already knows is counted from it at scrape
  time: jobs by status, retries (attempts beyond the first), webhook attempts
  by outcome;
- queue depths are read from Redis at scrape time;
- durations, which no table keeps (a summary row keeps only its latest one),
  are histograms whose cumulative bucket counters live in Redis hashes:
  workers increment them with HINCRBY and the API reads them on each scrape.
  They survive process restarts and reset only with Redis, which Prometheus
  handles like any counter reset.

A scrape while Redis is away still answers, with `peerdigest_redis_up 0` and
the database's series.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import case, func, select

from peerdigest.db.models import SummaryJob, WebhookDelivery
from peerdigest.db.session import session_scope
from peerdigest.queue import quarantine, repairs
from peerdigest.queue.job_metrics import GUARD_REJECTIONS, JOB_DURATION, LLM_LATENCY
from peerdigest.queue.health import job_counts
from peerdigest.queue.queues import all_queues

log = logging.getLogger(__name__)


class PeerdigestCollector(Collector):
    """Reads every series afresh on each scrape, from the database and Redis."""

    def __init__(self, database_url: str, redis: Redis):
        self.database_url = database_url
        self.redis = redis

    def collect(self) -> Iterable:
        yield from self._from_database()
        yield from self._from_redis()

    def _from_database(self) -> Iterable:
        with session_scope(self.database_url) as session:
            by_status = job_counts(session)
            retries = session.scalar(
                select(func.coalesce(func.sum(case((SummaryJob.attempts > 1, SummaryJob.attempts - 1), else_=0)), 0))
            )
            attempts, delivered = session.execute(
                select(func.count(), func.coalesce(func.sum(case((WebhookDelivery.error.is_(None), 1), else_=0)), 0))
            ).one()
        jobs = GaugeMetricFamily("peerdigest_jobs", "Summary jobs in the database by status", labels=["status"])
        for status, count in by_status.items():
            jobs.add_metric([status], count)
        yield jobs
        yield CounterMetricFamily(
            "peerdigest_job_retries", "Attempts of summary jobs beyond their first", value=retries
        )
        webhooks = CounterMetricFamily(
            "peerdigest_webhook_deliveries", "Webhook delivery attempts by outcome", labels=["outcome"]
        )
        webhooks.add_metric(["delivered"], delivered)
        webhooks.add_metric(["failed"], attempts - delivered)
        yield webhooks

    def _from_redis(self) -> Iterable:
        up = GaugeMetricFamily("peerdigest_redis_up", "1 when the queue Redis answered this scrape")
        try:
            depth = GaugeMetricFamily("peerdigest_queue_depth", "Jobs waiting in each queue", labels=["queue"])
            for queue in all_queues(self.redis):
                depth.add_metric([queue.name], queue.count)
            histograms = [JOB_DURATION.family(self.redis), LLM_LATENCY.family(self.redis)]
            rejections = CounterMetricFamily(
                "peerdigest_guard_rejections", "LLM answers the output guard rejected, by the rule that fired",
                labels=["rule"],
            )
            for rule, count in sorted(self.redis.hgetall(GUARD_REJECTIONS).items()):
                rejections.add_metric([rule.decode()], int(count))
            reconciler = list(self._reconciler())
        except RedisError as exc:
            log.warning("metrics: Redis does not answer (%s); only the database's series are shown", exc)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield depth
        yield from histograms
        yield rejections
        yield from reconciler

    def _reconciler(self) -> Iterable:
        """What the reconciler repaired (`queue.repairs`), and the poison entries it and the workers set aside."""
        totals = CounterMetricFamily(
            "peerdigest_reconciler_repairs", "Differences between Redis and the database the reconciler repaired, by kind",
            labels=["kind"],
        )
        for kind, count in sorted(repairs.totals(self.redis).items()):
            totals.add_metric([kind], count)
        yield totals
        last = repairs.last_pass(self.redis)
        if last is not None:
            yield GaugeMetricFamily(
                "peerdigest_reconciler_last_pass_timestamp_seconds", "When the reconciler's last pass ended (Unix time)",
                value=last.at.timestamp(),
            )
            yield GaugeMetricFamily(
                "peerdigest_reconciler_last_pass_duration_seconds", "How long the reconciler's last pass took",
                value=last.seconds,
            )
        yield GaugeMetricFamily(
            "peerdigest_quarantined_entries", "Queue entries that were not job ids, kept in the quarantine",
            value=quarantine.count(self.redis),
        )


def registry(database_url: str, redis: Redis) -> CollectorRegistry:
    """A registry of its own per app, so nothing is shared between apps (or tests) in one process."""
    own = CollectorRegistry(auto_describe=False)
    own.register(PeerdigestCollector(database_url, redis))
    return own
