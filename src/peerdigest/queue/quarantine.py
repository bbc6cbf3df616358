"""Queue entries that are not job ids: moved out of the way, kept for inspection, never a crash.

A queue list should only ever hold job ids (RQ's `[A-Za-z0-9_-]+`), but anyone
with access to Redis can push anything onto it: a stray `LPUSH` of compressed
bytes, a foreign client, a half-written value. RQ turns every popped entry into
text first thing (`rq.queue.Queue.dequeue_any` → `as_text`), so one such entry
raises `UnicodeDecodeError` in the worker's loop, and every reconciler pass that
lists the queue (`Queue.get_job_ids`) raises the same error, stopping the
repairs of every other job.

Such an entry is moved to one Redis list, `QUARANTINE_KEY`, as a small JSON
record: where it was, when it was moved, its length and (the first
`KEEP_BYTES` of) the raw bytes, base64-encoded. It is logged once, at the move.
Workers move what they pop (see `queue.worker.SummaryQueue`); the reconciler
sweeps the queues and the retry schedule before it reads them (`sweep`).
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from redis import Redis
from rq.job import validate_job_id
from rq.queue import Queue
from rq.registry import ScheduledJobRegistry

from peerdigest.db.models import utcnow

log = logging.getLogger(__name__)

QUARANTINE_KEY = "peerdigest:quarantine"
KEEP_ENTRIES = 1000  # the newest entries kept; a flood of garbage must not fill Redis
KEEP_BYTES = 4096  # of each entry's raw bytes; its full length is recorded

# KEYS[1]: where the entry is, KEYS[2]: the quarantine; ARGV: the raw entry, its record, KEEP_ENTRIES,
# and whether KEYS[1] is a list (else a sorted set). Atomic, so when a worker or another reconciler
# moves the same entry at the same moment, only one of them records it.
_MOVE = """
local removed
if ARGV[4] == '1' then
    removed = redis.call('LREM', KEYS[1], 0, ARGV[1])
else
    removed = redis.call('ZREM', KEYS[1], ARGV[1])
end
for _ = 1, removed do
    redis.call('LPUSH', KEYS[2], ARGV[2])
end
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[3]) - 1)
return removed
"""


@dataclass(frozen=True)
class Quarantined:
    source: str  # the Redis key the entry was taken from
    at: datetime
    length: int  # bytes of the raw entry
    raw: bytes  # its first KEEP_BYTES bytes


def is_job_id(raw: bytes | str) -> bool:
    """Whether a queue entry can be a job id: UTF-8 text that RQ itself would accept as one."""
    try:
        validate_job_id(raw.decode() if isinstance(raw, bytes) else raw)
    except (UnicodeDecodeError, TypeError, ValueError):
        return False
    return True


def record(redis: Redis, source: str, raw: bytes) -> None:
    """Keep an entry already taken off `source` (a worker popped it) in the quarantine."""
    with redis.pipeline() as pipeline:
        pipeline.lpush(QUARANTINE_KEY, _record(source, raw))
        pipeline.ltrim(QUARANTINE_KEY, 0, KEEP_ENTRIES - 1)
        pipeline.execute()
    _log(source, raw)


def sweep(redis: Redis, queues: Iterable[Queue]) -> int:
    """Move every entry of the queues and their retry schedules that is not a job id; how many were moved."""
    move = redis.register_script(_MOVE)
    moved = 0
    for queue in queues:
        for key, is_list in ((queue.key, True), (ScheduledJobRegistry(queue=queue).key, False)):
            entries = redis.lrange(key, 0, -1) if is_list else redis.zrange(key, 0, -1)
            for raw in set(entries):
                if is_job_id(raw):
                    continue
                removed = move(keys=[key, QUARANTINE_KEY], args=[raw, _record(key, raw), KEEP_ENTRIES, int(is_list)])
                if removed:
                    moved += removed
                    _log(key, raw)
    return moved


def entries(redis: Redis, limit: int = 20) -> list[Quarantined]:
    """The newest quarantined entries first."""
    found = []
    for raw_record in redis.lrange(QUARANTINE_KEY, 0, limit - 1):
        data = json.loads(raw_record)
        found.append(
            Quarantined(data["source"], datetime.fromisoformat(data["at"]), data["length"], base64.b64decode(data["raw"]))
        )
    return found


def count(redis: Redis) -> int:
    return redis.llen(QUARANTINE_KEY)


def _record(source: str, raw: bytes) -> str:
    return json.dumps({
        "source": source,
        "at": utcnow().isoformat(),
        "length": len(raw),
        "raw": base64.b64encode(raw[:KEEP_BYTES]).decode(),
    })


def _log(source: str, raw: bytes) -> None:
    log.error(
        "an entry of %s is not a job id (%d bytes, starting %r); moved to %s",
        source, len(raw), raw[:16], QUARANTINE_KEY,
    )
