"""`make profile-api`: what one API request of scenario 5 costs, in one process, without load.

    python bench/profile_api.py                SQLite in a temporary directory
    python bench/profile_api.py --postgresql   a database of its own on BENCH_POSTGRESQL_URL's server

Seeds an evaluation (as scenario 5 does) with an embedded Redis, builds the app
with `create_app` as every `peerdigest api` process does, API tokens
(AUTH_MODE=token) and rate limits on (at limits no run reaches), and sends each kind of request of scenario 5 one at a
time through an in-process transport (no sockets, no uvicorn):

- per request: CPU milliseconds of this process (the transport's client side
  included, so `healthz`, the cheapest route, is printed as the floor; the
  database server's and Redis's own CPU not), database round trips (statements,
  commits and rollbacks; on PostgreSQL also BEGIN and the pool's ping) and Redis
  round trips (a pipeline or a script is one), hand-offs to the thread pool,
  and dependencies FastAPI solves (sub-trees of cached ones included);
- the same for the bare endpoint of scenario 5 (`bench/bare_api.py`);
- a pyinstrument profile of all of it, printed and written as HTML to
  build/bench/profile-api.html. For the profile only, the work FastAPI sends to
  its thread pool runs on the event loop's thread, which pyinstrument follows
  (it sees only the thread it started in); the counts above are taken with the
  thread pool as it is.

Unlike wall-clock percentiles under load, these numbers hardly move with what
else runs on the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import anyio.to_thread  # noqa: E402
import httpx  # noqa: E402
import fastapi.dependencies.utils  # noqa: E402
import redis.asyncio.connection  # noqa: E402
import redis.connection  # noqa: E402
from pyinstrument import Profiler  # noqa: E402
from sqlalchemy import event  # noqa: E402

from bench.profile import report  # noqa: E402
from bench.stage import PREFIX, UNREACHED_LIMITS, Stage, postgresql_database  # noqa: E402
from peerdigest.web.app import create_app  # noqa: E402
from peerdigest.config import Settings  # noqa: E402
from peerdigest.db.migrate import upgrade  # noqa: E402
from peerdigest.db.session import API_BUSY_TIMEOUT, engine_for  # noqa: E402
from peerdigest.dev.embedded_redis import EmbeddedRedis  # noqa: E402

SEEDED_JOBS = 40


class RoundTrips:
    """Counts database and Redis round trips made in this process."""

    def __init__(self, database_url: str):
        self.counts: Counter[str] = Counter()
        engine = engine_for(database_url, API_BUSY_TIMEOUT)
        for name in ("before_cursor_execute", "commit", "rollback"):
            event.listen(engine, name, self._count("database"))
        if engine.dialect.name == "postgresql":
            # psycopg sends BEGIN on its own, before a transaction's first statement, and waits for the answer;
            # the pool's "SELECT 1" on every checkout (pool_pre_ping) passes no event of the engine either.
            event.listen(engine, "begin", self._count("database"))
            event.listen(engine.pool, "checkout", self._count("database"))
        sent = redis.connection.AbstractConnection.send_packed_command

        def counted(connection, command, check_health=True):
            self.counts["redis"] += 1  # one packed send is one round trip: a pipeline or a script included
            return sent(connection, command, check_health)

        redis.connection.AbstractConnection.send_packed_command = counted
        async_sent = redis.asyncio.connection.AbstractConnection.send_packed_command

        async def async_counted(connection, command, check_health=True):
            self.counts["redis"] += 1
            return await async_sent(connection, command, check_health)

        redis.asyncio.connection.AbstractConnection.send_packed_command = async_counted
        # Hand-offs to the thread pool (FastAPI runs sync dependencies and routes there), and the dependencies
        # FastAPI solves (a cached one's sub-tree is walked again wherever it is declared): both load-independent.
        to_thread = anyio.to_thread.run_sync

        async def handed_off(*args, **kwargs):
            self.counts["thread pool"] += 1
            return await to_thread(*args, **kwargs)

        anyio.to_thread.run_sync = handed_off
        solve = fastapi.dependencies.utils.solve_dependencies

        async def solved(*args, **kwargs):
            self.counts["solves"] += 1
            return await solve(*args, **kwargs)

        fastapi.dependencies.utils.solve_dependencies = solved

    def _count(self, what: str) -> Callable:
        def count(*_args, **_kwargs) -> None:
            self.counts[what] += 1

        return count


async def _send(client: httpx.AsyncClient, requests: list[tuple[str, str, dict | None]]) -> None:
    for method, path, body in requests:
        response = await client.request(method, path, json=body)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")


def measure(app, requests: list[tuple[str, str, dict | None]], trips: RoundTrips, headers: dict) -> dict:
    """CPU ms and round trips per request of `requests`, sent one after the other with `headers`."""

    async def run() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench", headers=headers) as client:
            await _send(client, requests)

    trips.counts.clear()
    started = time.process_time()
    asyncio.run(run())
    cpu = time.process_time() - started
    n = len(requests)
    return {
        "requests": n,
        "cpu_ms": round(cpu / n * 1000, 2),
        "database_round_trips": round(trips.counts["database"] / n, 2),
        "redis_round_trips": round(trips.counts["redis"] / n, 2),
        "thread_pool_hops": round(trips.counts["thread pool"] / n, 2),
        "dependency_solves": round(trips.counts["solves"] / n, 2),
    }


async def _inline(func, *args, abandon_on_cancel=False, cancellable=None, limiter=None):
    return func(*args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgresql", action="store_true", help="on PostgreSQL instead of SQLite")
    parser.add_argument("--requests", type=int, default=200, help="requests of each kind")
    args = parser.parse_args(argv)
    n = args.requests

    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="peerdigest-profile-api-")))
        redis_server = stack.enter_context(EmbeddedRedis(tmp / "redis"))
        database_url = stack.enter_context(postgresql_database()) if args.postgresql else f"sqlite:///{tmp}/api.db"
        settings = Settings(
            _env_file=None, environment="test", database_url=database_url, redis_url=redis_server.url,
            data_dir=tmp, embedded_redis="never", auth_mode="token", rate_limit_enabled=True, **UNREACHED_LIMITS,
        )
        upgrade(database_url)
        stage = Stage(settings, tmp, quick=True, smoke=False)
        # Students enough that each queue request of the "new" kind is a student's first.
        evaluation_id, students = stage.evaluation(SEEDED_JOBS + 2 * n, language="nl")
        known_jobs = stage.queue_fresh(evaluation_id, students[:SEEDED_JOBS])
        bearer = stage.bearer()
        queued = students[:SEEDED_JOBS]  # each has an open job: the request answers with it
        fresh = iter(students[SEEDED_JOBS:])
        queue = f"{PREFIX}/evaluation/{evaluation_id}/student/{{}}/queue"
        kinds = {
            "healthz (floor)": lambda i: ("GET", "/healthz", None),
            "status": lambda i: ("GET", f"{PREFIX}/jobs/{known_jobs[i % len(known_jobs)]}/status", None),
            "queue (open job)": lambda i: ("POST", queue.format(queued[i % len(queued)]), None),
            "queue (new job)": lambda i: ("POST", queue.format(next(fresh)), None),
            "batch_queue (30, open jobs)": lambda i: (
                "POST", f"{PREFIX}/evaluation/{evaluation_id}/batch-queue", {"student_ids": queued[:30]}),
        }

        os.environ["REDIS_URL"] = redis_server.url  # read by the bare endpoint's module when imported
        from bench import bare_api

        app = create_app(settings, redis_url=redis_server.url)
        trips = RoundTrips(database_url)
        for kind in ("healthz (floor)", "status", "queue (open job)"):  # warm up: connections, caches
            measure(app, [kinds[kind](i) for i in range(20)], trips, bearer)
        results = {kind: measure(app, [make(i) for i in range(n)], trips, bearer) for kind, make in kinds.items()}
        measure(bare_api.app, [("POST", "/enqueue", None)] * 20, trips, bearer)
        results["bare enqueue (yardstick)"] = measure(bare_api.app, [("POST", "/enqueue", None)] * n, trips, bearer)

        print(f"{'per request':<30} {'cpu ms':>8} {'db trips':>9} {'redis trips':>12} {'pool hops':>10} {'dep solves':>11}")
        for kind, r in results.items():
            print(f"{kind:<30} {r['cpu_ms']:>8} {r['database_round_trips']:>9} {r['redis_round_trips']:>12}"
                  f" {r['thread_pool_hops']:>10} {r['dependency_solves']:>11}")
        print(f"({n} requests of each kind, {'PostgreSQL' if args.postgresql else 'SQLite'}, load {os.getloadavg()})")

        # The profile: the thread pool's work on this thread, where pyinstrument sees it.
        anyio.to_thread.run_sync = _inline
        mixed = [kinds[kind](i) for i in range(n) for kind in ("status", "status", "status", "queue (open job)")]
        profiler = Profiler(async_mode="enabled")
        with profiler:
            measure(app, mixed, trips, bearer)
        print(f"the profile is in {report(profiler, 'profile-api.html')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
