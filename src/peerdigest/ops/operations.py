"""What the operations page shows: one plain function over the pieces that already know each part.

Queue depths and workers come from Redis (`queue.maintenance`, `queue.health`'s
one definition of a live worker), the reconciler's last pass from
`queue.repairs`, and jobs, failures and the LLM's recent latency and error
rate from the database of record. When Redis does not answer, the database's
part is still shown and `redis_reachable` says why the rest is missing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.orm import Session

from peerdigest.config import Settings
from peerdigest.db.models import FeedbackSummary, JobStatus, SummaryJob, utcnow
from peerdigest.queue import failed_jobs, repairs
from peerdigest.queue.health import is_alive
from peerdigest.queue.maintenance import queue_stats
from peerdigest.summarize import GenerationMethod

WINDOW = timedelta(hours=24)
CHART_STATUSES = (JobStatus.completed, JobStatus.failed, JobStatus.cancelled, "open")


@dataclass(frozen=True)
class WorkerRow:
    name: str
    state: str
    alive: bool
    current_job: str | None
    last_heartbeat: datetime | None


@dataclass(frozen=True)
class HourBar:
    start: datetime
    counts: dict[str, int]  # by CHART_STATUSES: jobs created in this hour, by what became of them

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class LLMHealth:
    """The LLM over the window: summaries it wrote, and those the builtin summarizer had to write instead."""

    written: int  # generation method ai
    fell_back: int  # generation method fallback: the LLM failed, or its answers were rejected
    median_seconds: float | None
    p95_seconds: float | None

    @property
    def error_rate(self) -> float | None:
        asked = self.written + self.fell_back
        return self.fell_back / asked if asked else None


@dataclass
class Overview:
    now: datetime
    redis_reachable: bool
    queues: list[dict] = field(default_factory=list)  # name, queued, started, scheduled, deferred, failed, ...
    workers: list[WorkerRow] = field(default_factory=list)
    last_pass: repairs.LastPass | None = None
    repair_totals: dict[str, int] = field(default_factory=dict)
    hours: list[HourBar] = field(default_factory=list)
    failed: list[SummaryJob] = field(default_factory=list)
    llm: LLMHealth | None = None


def overview(session: Session, redis: Redis, settings: Settings, now: datetime | None = None) -> Overview:
    """Everything the page shows, for the whole installation: queues and workers serve every school."""
    now = now or utcnow()
    result = Overview(now=now, redis_reachable=True)
    try:
        stats = queue_stats(redis)
        result.queues = stats["queues"]
        result.workers = [
            WorkerRow(
                name=w["name"],
                state=w["state"],
                alive=is_alive(w, settings, now),
                current_job=w["current_job"],
                last_heartbeat=datetime.fromisoformat(w["last_heartbeat"]) if w["last_heartbeat"] else None,
            )
            for w in sorted(stats["workers"], key=lambda w: w["name"])
        ]
        result.last_pass = repairs.last_pass(redis)
        result.repair_totals = repairs.totals(redis)
    except RedisError:
        result.redis_reachable = False
    result.hours = jobs_per_hour(session, now)
    result.failed = failed_jobs.waiting(session)
    result.llm = llm_health(session, now)
    return result


def jobs_per_hour(session: Session, now: datetime) -> list[HourBar]:
    """The jobs created in each of the last 24 hours, by what became of them (queued or running: `open`)."""
    first = now.replace(minute=0, second=0, microsecond=0) - WINDOW + timedelta(hours=1)
    rows = session.execute(
        select(SummaryJob.created_at, SummaryJob.status).where(SummaryJob.created_at >= first)
    ).all()
    counts: dict[int, Counter] = {hour: Counter() for hour in range(24)}
    for created_at, status in rows:
        hour = int((created_at - first).total_seconds() // 3600)
        if 0 <= hour < 24:
            counts[hour]["open" if status in JobStatus.open() else status] += 1
    return [
        HourBar(first + timedelta(hours=hour), {status: counts[hour][status] for status in CHART_STATUSES})
        for hour in range(24)
    ]


def llm_health(session: Session, now: datetime) -> LLMHealth:
    """From the summaries written in the last 24 hours: how many the LLM wrote, how often it failed, how fast."""
    rows = session.execute(
        select(FeedbackSummary.generation_method, FeedbackSummary.duration_ms).where(
            FeedbackSummary.updated_at >= now - WINDOW,
            FeedbackSummary.generation_method.in_((GenerationMethod.ai, GenerationMethod.fallback)),
        )
    ).all()
    seconds = sorted(ms / 1000 for generation_method, ms in rows if generation_method == GenerationMethod.ai)
    return LLMHealth(
        written=len(seconds),
        fell_back=sum(1 for generation_method, _ in rows if generation_method == GenerationMethod.fallback),
        median_seconds=_quantile(seconds, 0.5),
        p95_seconds=_quantile(seconds, 0.95),
    )


def _quantile(ordered: list[float], q: float) -> float | None:
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]
