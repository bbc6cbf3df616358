"""What the reconciler repaired: its last pass, and every repair so far by kind, kept on Redis.

A pass runs in whichever process has the reconciler's turn (a scheduler, `jobs
recover`), while `/metrics` and the operations page are served by any API
process; so the record lives on Redis, where all of them meet, like the
duration histograms of `queue/job_metrics.py`. It starts again from zero when Redis
loses its data, which Prometheus reads as a counter reset.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from redis import Redis

from peerdigest.db.models import utcnow

LAST_PASS_KEY = "peerdigest:reconciler:last-pass"
TOTALS_KEY = "peerdigest:reconciler:repairs"
_ABOUT_THE_PASS = ("at", "seconds", "checked")


@dataclass(frozen=True)
class LastPass:
    at: datetime  # when it ended
    seconds: float  # how long it took
    checked: int  # open jobs it looked at
    repairs: dict[str, int]  # by kind: the counts of `reconcile.Report`

    @property
    def repaired(self) -> int:
        return sum(self.repairs.values())


def record(redis: Redis, seconds: float, checked: int, repairs: dict[str, int]) -> None:
    """Keep a pass that just ended as the last one, and add its repairs to the totals."""
    with redis.pipeline() as pipeline:
        pipeline.delete(LAST_PASS_KEY)
        pipeline.hset(LAST_PASS_KEY, mapping={"at": utcnow().isoformat(), "seconds": seconds, "checked": checked, **repairs})
        _add(pipeline, repairs)
        pipeline.execute()


def add(redis: Redis, repairs: dict[str, int]) -> None:
    """Add repairs made outside a pass (a worker's repair of the job its dead horse held) to the totals."""
    with redis.pipeline() as pipeline:
        _add(pipeline, repairs)
        pipeline.execute()


def _add(pipeline, repairs: dict[str, int]) -> None:
    for kind, count in repairs.items():
        pipeline.hincrby(TOTALS_KEY, kind, count)  # also 0: every kind has a series from the first pass


def last_pass(redis: Redis) -> LastPass | None:
    """The reconciler's last pass (by any process), or None when none ran since Redis last lost its data."""
    raw = {key.decode(): value.decode() for key, value in redis.hgetall(LAST_PASS_KEY).items()}
    if not raw:
        return None
    return LastPass(
        at=datetime.fromisoformat(raw["at"]),
        seconds=float(raw["seconds"]),
        checked=int(raw["checked"]),
        repairs={kind: int(count) for kind, count in raw.items() if kind not in _ABOUT_THE_PASS},
    )


def totals(redis: Redis) -> dict[str, int]:
    """Every repair since Redis last lost its data, by kind."""
    return {kind.decode(): int(count) for kind, count in redis.hgetall(TOTALS_KEY).items()}
