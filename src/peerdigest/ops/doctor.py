"""`peerdigest doctor`: everything a deployment needs, checked and explained, one line each with its fix.

`api`, `worker` and `scheduler` run the checks that would make them fail
(`FATAL`) before they start, and refuse to start with the same lines, instead
of crashing on their first job. What is fatal depends on the service: the API
keeps accepting jobs while Redis is down (the reconciler queues them later), so
an unreachable Redis stops a worker but not the API; a missing LLM model is a
misconfiguration a worker refuses, an unreachable LLM endpoint only a warning
(jobs retry, then fall back to the builtin summarizer).

The last checks compare the database of record with Redis, as the reconciler
does (`queue.reconcile` finds the differences for both): open jobs Redis does
not hold, job data RQ cannot read, queue entries without a job, ended jobs RQ
files elsewhere, and LLM slots held by jobs no longer running. Each is repaired
by the reconciler's next pass, or at once by `peerdigest jobs recover`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlsplit
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property

import rq
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from peerdigest.config import Settings, redacted
from peerdigest.queue.connection import (
    SENTINEL_SCHEME,
    DecodingConnectionError,
    configured_url,
    connect,
    describe,
)
from peerdigest.queue.mail import server_problem
from peerdigest.summarize import provider

MIN_REDIS = (5, 0, 0)  # "RQ requires Redis >= 5" (RQ's README)
CLOCK_SKEW_WARN = 2.0  # seconds; RQ compares timestamps written by different machines


class Level(StrEnum):
    ok = "ok"
    warn = "warn"
    fail = "fail"


@dataclass(frozen=True)
class Finding:
    check: str
    level: Level
    message: str
    fix: str = ""

    def line(self) -> str:
        mark = {Level.ok: "ok  ", Level.warn: "WARN", Level.fail: "FAIL"}[self.level]
        return f"{mark} {self.check:<16} {self.message}" + (f" — fix: {self.fix}" if self.fix else "")


@dataclass
class Probe:
    """What the checks share: the settings, the Redis URL in use, and a client that answers or not."""

    settings: Settings
    redis_url: str
    redis: Redis | None = None  # None when Redis does not answer
    redis_error: str = ""

    @cached_property
    def open_jobs(self) -> list:
        """Every open job with where Redis has it (`reconcile.survey`), looked at once for all the checks that need it."""
        from peerdigest.queue.reconcile import survey

        return survey(self.settings, self.redis)

    @cached_property
    def stray_entries(self) -> list:
        """Queue entries of no open job (`reconcile.stray_entries`), read once for "job data" and "queue entries"."""
        from peerdigest.queue.reconcile import stray_entries

        open_ids = {row.job_id for row, _ in self.open_jobs}  # so no open job's hash is read a second time
        return stray_entries(self.redis, open_ids)


def _redis(probe: Probe) -> Finding:
    if probe.redis is None:
        return Finding(
            "redis", Level.fail, f"no answer at {describe(probe.redis_url)} ({probe.redis_error})",
            "start Redis (`peerdigest up` starts a local one) or point REDIS_URL at a running one",
        )
    version = probe.redis.info("server").get("redis_version")
    return Finding("redis", Level.ok, f"Redis {_text(version)} answers at {describe(probe.redis_url)}")


def _queue_connection(probe: Probe) -> Finding:
    try:
        connect(probe.redis_url)
    except DecodingConnectionError:
        return Finding(
            "queue connection", Level.fail,
            "REDIS_URL asks for decode_responses=True: RQ's binary job data would fail to decode "
            "(UnicodeDecodeError: 'utf-8' codec can't decode byte 0x9c) and no job would ever run",
            "remove decode_responses from REDIS_URL; the queue connection must return bytes",
        )
    return Finding("queue connection", Level.ok, "binary-safe (responses are not decoded)")


def _versions(probe: Probe) -> Finding:
    if probe.redis is None:
        return Finding("versions", Level.warn, f"RQ {rq.__version__}; Redis version unknown (no answer)")
    version = _text(probe.redis.info("server").get("redis_version", "0"))
    found = tuple(int(part) for part in version.split(".")[:3] if part.isdigit())
    if found < MIN_REDIS:
        return Finding(
            "versions", Level.fail, f"RQ {rq.__version__} needs Redis {'.'.join(map(str, MIN_REDIS))} or newer; "
            f"this one is {version}", "upgrade Redis",
        )
    return Finding("versions", Level.ok, f"RQ {rq.__version__} with Redis {version}")


def _database(probe: Probe) -> Finding:
    from peerdigest.db.migrate import pending

    try:
        current, head = pending(probe.settings.database_url)
    except Exception as exc:  # any driver's error: the point is to say it in one line
        return Finding(
            "database", Level.fail, f"cannot read the database: {type(exc).__name__}: {_first_line(exc)}",
            "check DATABASE_URL and that the database server runs",
        )
    if current != head:
        return Finding(
            "database", Level.fail, f"schema at revision {current or 'none'}, this version needs {head}",
            "run `peerdigest migrate`",
        )
    return Finding("database", Level.ok, f"reachable, schema up to date ({head})")


def _llm(probe: Probe) -> Finding:
    settings = probe.settings
    if not provider.configured(settings):
        return Finding("llm", Level.ok, "not configured: the builtin summarizer writes every summary")
    # A doctor waits seconds, not LLM_TIMEOUT, for a server that accepts the connection and never answers.
    server = provider.for_settings(settings.model_copy(update={"llm_timeout": min(settings.llm_timeout, 5.0)}))
    try:
        models = server.models()
    except provider.ProviderError as exc:
        return Finding(
            "llm", Level.warn, f"{settings.llm_base_url} does not answer as LLM_PROVIDER={settings.llm_provider} "
            f"({exc.problem}); jobs retry and then fall back to the builtin summarizer",
            "start the LLM server, or fix LLM_BASE_URL and LLM_PROVIDER",
        )
    if settings.llm_model not in models:
        return Finding(
            "llm", Level.fail, f"model {settings.llm_model!r} is not offered at {settings.llm_base_url} "
            f"(it offers: {', '.join(map(str, models)) or 'none'})",
            f"load the model on the server (Ollama: `ollama pull {settings.llm_model}`) or set LLM_MODEL",
        )
    return Finding("llm", Level.ok, f"model {settings.llm_model} offered at {settings.llm_base_url}")


def _mail(probe: Probe) -> Finding:
    settings = probe.settings
    if not settings.smtp_url:
        return Finding("mail", Level.ok, "SMTP_URL not set: nothing is mailed; teachers send reminders and sign-in "
                       "links by hand from an evaluation's Mail page")
    if settings.environment == "production" and urlsplit(settings.public_url).hostname in ("localhost", "127.0.0.1"):
        return Finding("mail", Level.warn, f"links in mail start with PUBLIC_URL {settings.public_url}, which no "
                       "student can open", "set PUBLIC_URL to the address people reach the web app at")
    problem = server_problem(settings)
    if problem:
        return Finding("mail", Level.warn, f"{redacted(settings.smtp_url)} does not take mail ({problem}); mail "
                       "waits and is tried again", "start the mail server, or fix SMTP_URL")
    return Finding("mail", Level.ok, f"{redacted(settings.smtp_url)} answers; links start with {settings.public_url}")


def _workers(probe: Probe) -> Finding:
    if probe.redis is None:
        return Finding("workers", Level.warn, "unknown (Redis does not answer)")
    from peerdigest.queue.health import live_workers

    try:
        workers = live_workers(probe.redis, probe.settings)
    except DecodingConnectionError:
        return Finding("workers", Level.warn, "unknown (the queue connection is misconfigured, see above)")
    if not workers:
        return Finding(
            "workers", Level.warn,
            f"no worker is alive (none sent a heartbeat in the last {probe.settings.worker_heartbeat_max_age} s): "
            "queued jobs wait", "start `peerdigest worker`",
        )
    return Finding("workers", Level.ok, f"{len(workers)} alive ({', '.join(sorted(w['name'] for w in workers))})")


def _quarantine(probe: Probe) -> Finding:
    from peerdigest.queue import quarantine

    if probe.redis is None:
        return Finding("quarantine", Level.warn, "unknown (Redis does not answer)")
    moved = quarantine.entries(probe.redis, limit=1)
    if not moved:
        return Finding("quarantine", Level.ok, "every queue entry was a job id")
    newest = moved[0]
    return Finding(
        "quarantine", Level.warn,
        f"{quarantine.count(probe.redis)} queue entries were not job ids and were moved aside; the newest, "
        f"{newest.length} bytes from {newest.source}, at {newest.at:%Y-%m-%d %H:%M:%S} UTC",
        f"find what writes to the queues besides peerdigest; inspect with "
        f"`redis-cli LRANGE {quarantine.QUARANTINE_KEY} 0 -1`, then `redis-cli DEL {quarantine.QUARANTINE_KEY}`",
    )


def _clock(probe: Probe) -> Finding:
    if probe.redis is None:
        return Finding("clock", Level.warn, "unknown (Redis does not answer)")
    before = time.time()
    seconds, micros = probe.redis.time()
    after = time.time()
    skew = (before + after) / 2 - (seconds + micros / 1e6)
    if abs(skew) >= probe.settings.job_abandoned_after / 2:
        level = Level.fail  # the reconciler would take running jobs for abandoned ones, or miss dead ones
    elif abs(skew) >= CLOCK_SKEW_WARN:
        level = Level.warn
    else:
        return Finding("clock", Level.ok, f"within {abs(skew):.2f}s of Redis")
    return Finding(
        "clock", level, f"this machine's clock is {abs(skew):.1f}s {'ahead of' if skew > 0 else 'behind'} Redis's; "
        "heartbeats and retry times are compared across machines", "synchronise clocks with NTP",
    )


RECOVER = (
    "`peerdigest jobs recover` (the scheduler's reconciler does it on its own every RECONCILE_INTERVAL seconds)"
)
LISTED = 5  # job ids named in one line at most


def _listed(items: list[str]) -> str:
    more = f" and {len(items) - LISTED} more" if len(items) > LISTED else ""
    return ", ".join(items[:LISTED]) + more


def _unknown(check: str, probe: Probe) -> Finding | None:
    """The finding of a check that compares the database with Redis, when Redis does not answer."""
    if probe.redis is None:
        return Finding(check, Level.warn, "unknown (Redis does not answer)")
    return None


def _open_jobs(probe: Probe) -> Finding:
    from peerdigest.queue.reconcile import Seen

    if unknown := _unknown("open jobs", probe):
        return unknown
    lost = [f"{row.job_id} ({row.status})" for row, sighting in probe.open_jobs
            if sighting.seen in (Seen.missing, Seen.stranded)]
    if lost:
        return Finding(
            "open jobs", Level.fail,
            f"{len(lost)} queued or processing in the database but on no queue or registry of Redis, so no worker "
            f"will run them: {_listed(lost)}",
            f"{RECOVER} queues them again (a processing one once its worker has stopped)",
        )
    return Finding("open jobs", Level.ok, f"Redis holds all {len(probe.open_jobs)} queued or processing")


def _job_data(probe: Probe) -> Finding:
    from peerdigest.queue.reconcile import Seen

    if unknown := _unknown("job data", probe):
        return unknown
    unreadable = [f"{row.job_id} ({sighting.reason})" for row, sighting in probe.open_jobs
                  if sighting.seen == Seen.unreadable]
    unreadable += [f"{stray.job_id} ({stray.reason})" for stray in probe.stray_entries if stray.reason]
    if unreadable:
        return Finding(
            "job data", Level.fail, f"{len(unreadable)} job hashes on Redis that RQ cannot read: {_listed(unreadable)}",
            f"{RECOVER} moves them to the failed registry, with the reason, and fails their jobs",
        )
    return Finding("job data", Level.ok, "RQ can read every queued or open job")


def _queue_entries(probe: Probe) -> Finding:
    if unknown := _unknown("queue entries", probe):
        return unknown
    dangling = [f"{stray.job_id} on {stray.queue}" for stray in probe.stray_entries if not stray.reason]
    if dangling:
        return Finding(
            "queue entries", Level.fail, f"{len(dangling)} point at no job hash: {_listed(dangling)}",
            f"{RECOVER} drops them and queues their jobs again from the database",
        )
    return Finding("queue entries", Level.ok, "every entry has its job")


def _registries(probe: Probe) -> Finding:
    from peerdigest.queue.reconcile import misfiled

    if unknown := _unknown("registries", probe):
        return unknown
    wrong = [f"{entry.job.id} ({entry.status}, listed as {entry.listed})" for entry in misfiled(probe.settings, probe.redis)]
    if wrong:
        return Finding(
            "registries", Level.warn,
            f"{len(wrong)} ended jobs RQ lists as running or failed, so `queues stats` miscounts them: {_listed(wrong)}",
            f"{RECOVER} files them where the database says",
        )
    return Finding("registries", Level.ok, "RQ lists every ended job where the database says")


def _llm_slots(probe: Probe) -> Finding:
    from peerdigest.queue.reconcile import runs, slots_held

    if unknown := _unknown("llm slots", probe):
        return unknown
    held = slots_held(probe.settings, probe.redis)
    cap = probe.settings.llm_max_concurrency
    stale = [(slot, status) for slot, status in held if not runs(probe.settings, probe.redis, slot.job_id, status)]
    if stale:
        return Finding(
            "llm slots", Level.fail,
            f"{len(stale)} of the {cap} LLM slots are held by jobs no longer running: "
            + _listed([f"{slot.job_id} ({status or 'no such job'}, held {slot.held_for:.0f} s)" for slot, status in stale])
            + f"; jobs needing the LLM wait until the reconciler frees them (their leases end in "
            f"{min(slot.lease_left for slot, _ in stale):.0f} s at the soonest)",
            f"{RECOVER} frees them",
        )
    if not held:
        return Finding("llm slots", Level.ok, f"none of the {cap} held")
    return Finding(
        "llm slots", Level.ok,
        f"{len(held)} of {cap} held: " + _listed([f"{slot.job_id} ({slot.held_for:.0f} s)" for slot, _ in held]),
    )


CHECKS: dict[str, Callable[[Probe], Finding]] = {
    "redis": _redis,
    "queue connection": _queue_connection,
    "versions": _versions,
    "database": _database,
    "llm": _llm,
    "mail": _mail,
    "workers": _workers,
    "quarantine": _quarantine,
    "clock": _clock,
    "open jobs": _open_jobs,
    "job data": _job_data,
    "queue entries": _queue_entries,
    "registries": _registries,
    "llm slots": _llm_slots,
}

# The checks whose failure stops each service from starting.
FATAL: dict[str, tuple[str, ...]] = {
    "api": ("queue connection", "database"),
    "worker": ("redis", "queue connection", "versions", "database", "llm", "clock"),
    "scheduler": ("redis", "queue connection", "versions", "database", "clock"),
}


def probe(settings: Settings) -> Probe:
    url = configured_url(settings)
    # A plain client of its own: the queue connection may be exactly what is misconfigured.
    if url.startswith(SENTINEL_SCHEME):
        client = connect(url)  # made from REDIS_SENTINELS, so binary-safe by construction
    else:
        client = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
    try:
        client.ping()
    except (RedisError, OSError) as exc:
        return Probe(settings, url, None, _first_line(exc))
    return Probe(settings, url, client)


def diagnose(settings: Settings, checks: tuple[str, ...] | None = None) -> list[Finding]:
    """Run `checks` (all by default), in order."""
    shared = probe(settings)
    return [_run(name, shared) for name in (checks or tuple(CHECKS))]


def _run(name: str, shared: Probe) -> Finding:
    try:
        return CHECKS[name](shared)
    except DecodingConnectionError:
        return Finding(name, Level.warn, "unknown (the queue connection is misconfigured, see above)")
    except (RedisError, OSError) as exc:  # Redis went away between the probe and this check
        return Finding(name, Level.fail, f"could not check: {type(exc).__name__}: {_first_line(exc)}")
    except SQLAlchemyError as exc:  # the database check says why
        return Finding(name, Level.warn, f"unknown (the database cannot be read: {type(exc).__name__})")


def start_problems(settings: Settings, service: str) -> list[Finding]:
    """The failed checks that stop `service` from starting; empty when it may start."""
    return [finding for finding in diagnose(settings, FATAL[service]) if finding.level == Level.fail]


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [""])[0][:300]
