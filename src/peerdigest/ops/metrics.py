"""What `GET /metrics` shows, in Prometheus' text format.

Workers, the API and the scheduler are separate processes, often on separate
machines, and a worker runs every job in a forked work horse that exits when
the job ends. prometheus-client's in-process metrics would die with each horse,
and its multiprocess mode needs one directory shared by every process on one
machine and leaves a file per process id behind, one per job here. So nothing
is counted in process memory:

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
from dataclasses import dataclass

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)
from prometheus_client.registry import Collector, CollectorRegistry
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import case, func, select

from peerdigest.db.models import SummaryJob, WebhookDelivery
from peerdigest.db.session import session_scope
from peerdigest.domain.webhooks import webhook_queue
from peerdigest.queue import quarantine, repairs
from peerdigest.queue.enqueue import summary_queues
from peerdigest.queue.health import job_counts

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RedisHistogram:
    """A histogram whose counters live in one Redis hash, so any process can add to it or read it."""

    name: str
    documentation: str
    buckets: tuple[float, ...]

    @property
    def key(self) -> str:
        return f"peerdigest:metrics:{self.name}"

    def observe(self, redis: Redis, seconds: float) -> None:
        pipe = redis.pipeline(transaction=True)
        for bound in self.buckets:
            if seconds <= bound:
                pipe.hincrby(self.key, repr(bound), 1)
        pipe.hincrby(self.key, "count", 1)
        pipe.hincrbyfloat(self.key, "sum", seconds)
        pipe.execute()

    def family(self, redis: Redis) -> HistogramMetricFamily:
        raw = {k.decode(): v.decode() for k, v in redis.hgetall(self.key).items()}
        buckets = [(repr(bound), float(raw.get(repr(bound), 0))) for bound in self.buckets]
        buckets.append(("+Inf", float(raw.get("count", 0))))
        return HistogramMetricFamily(
            self.name, self.documentation, buckets=buckets, sum_value=float(raw.get("sum", 0))
        )


JOB_DURATION = RedisHistogram(
    "peerdigest_job_duration_seconds",
    "Time from the start of a summary job's last attempt to its completion",
    (0.1, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300),
)
LLM_LATENCY = RedisHistogram(
    "peerdigest_llm_latency_seconds",
    "Time the LLM endpoint took to write a summary (summaries written by the LLM only)",
    (0.5, 1, 2.5, 5, 10, 20, 30, 45, 60, 90, 120),
)


GUARD_REJECTIONS = "peerdigest:metrics:peerdigest_guard_rejections"  # a Redis hash: rule -> count


def observe_completed(
    redis: Redis, job: SummaryJob, method: str, summarizer_ms: int, rejections: tuple[str, ...] = ()
) -> None:
    """Record the durations of a job that just completed and the guard rules its LLM answers broke;
    a metric is never worth failing a job over."""
    try:
        JOB_DURATION.observe(redis, (job.completed_at - job.started_at).total_seconds())
        if method == "ai":
            LLM_LATENCY.observe(redis, summarizer_ms / 1000)
        for rule in rejections:
            redis.hincrby(GUARD_REJECTIONS, rule, 1)
    except RedisError as exc:
        log.warning("job %s: durations not recorded in the metrics (Redis: %s)", job.job_id, exc)


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
            for queue in [*summary_queues(self.redis), webhook_queue(self.redis)]:
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
