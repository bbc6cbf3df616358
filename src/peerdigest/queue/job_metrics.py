"""What a completed summary job adds to the metrics, counted in Redis so every process adds to the same counters.

A worker runs its jobs in a forked work horse (`queue.horse`), replaced after a
few hundred jobs or when it dies, so nothing is counted in process memory: each histogram's cumulative bucket
counters live in a Redis hash, workers increment them with HINCRBY, and
`ops.metrics` reads them on each scrape. They survive process restarts and
reset only with Redis, which Prometheus handles like any counter reset.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from prometheus_client.core import HistogramMetricFamily
from redis import Redis
from redis.client import Pipeline
from redis.exceptions import RedisError

from peerdigest.db.models import SummaryJob
from peerdigest.summarize import GenerationMethod

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

    def observe(self, pipe: Pipeline, seconds: float) -> None:
        """Add one observation to `pipe`, a transaction: a scrape never sees some buckets counted and not others."""
        for bound in self.buckets:
            if seconds <= bound:
                pipe.hincrby(self.key, repr(bound), 1)
        pipe.hincrby(self.key, "count", 1)
        pipe.hincrbyfloat(self.key, "sum", seconds)

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
    redis: Redis, job: SummaryJob, generation_method: str, summarizer_ms: int, rejections: tuple[str, ...] = ()
) -> None:
    """Record the durations of a job that just completed and the guard rules its LLM answers broke;
    a metric is never worth failing a job over."""
    try:
        with redis.pipeline(transaction=True) as pipe:  # one round trip for all of it
            JOB_DURATION.observe(pipe, (job.completed_at - job.started_at).total_seconds())
            if generation_method == GenerationMethod.ai:
                LLM_LATENCY.observe(pipe, summarizer_ms / 1000)
            for rule in rejections:
                pipe.hincrby(GUARD_REJECTIONS, rule, 1)
            pipe.execute()
    except RedisError as exc:
        log.warning("job %s: durations not recorded in the metrics (Redis: %s)", job.job_id, exc)
