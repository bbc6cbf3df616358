"""The scenarios of `make bench`, each measured against what the same machine does without us, or the ideal.

A scenario is a function of the `Stage` that returns a `Result`: its measures
and, for each target, whether it was met. `SCENARIOS` is the list `bench/run.py`
runs, in order; add a scenario by appending to it (the quality suite's
false-rejection rate of its "decent" fake model belongs here as one more).

Ratios are what to read: the machine is shared and noisy, so each scenario
measures itself and its yardstick (raw RQ, a bare endpoint, the ideal the fake
LLM's latency and capacity allow) in the same run.
"""

from __future__ import annotations

import asyncio
import math
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import httpx
from rq import Queue
from rq.registry import FinishedJobRegistry
from sqlalchemy.exc import OperationalError

from bench.stage import PREFIX, TEACHER, UNREACHED_LIMITS, Stage, api_client, postgresql_database
from peerdigest.db.migrate import upgrade
from peerdigest.queue.connection import connect
from peerdigest.testing.fake_llm import FakeLLM

NOOP_QUEUE = "bench-noop"
WARM_UP_SECONDS = 2.0  # scenario 5, before each measured run
BUILTIN_WORKERS = 2  # one per core


@dataclass
class Result:
    name: str
    measures: dict = field(default_factory=dict)
    targets: dict[str, tuple[str, bool]] = field(default_factory=dict)  # measure -> (target in words, met)

    def target(self, measure: str, words: str, met: bool) -> None:
        self.targets[measure] = (words, bool(met))


# --- 1 and 4: the pipeline against raw RQ, and a big evaluation -------------


def pipeline_overhead(stage: Stage) -> list[Result]:
    """Builtin summaries/s against raw RQ no-op jobs/s, same worker class, pool size and Redis; and a big evaluation."""
    students = stage.size(smoke=8, quick=200, full=1000)
    evaluation_id, ids = stage.evaluation(students, language="nl")

    redis = connect(stage.settings.redis_url)
    noop = Queue(NOOP_QUEUE, connection=redis)
    with stage.raw_rq_workers(BUILTIN_WORKERS, NOOP_QUEUE):
        started = time.monotonic()
        noop.enqueue_many([Queue.prepare_data("os.getpid", result_ttl=600) for _ in range(students)])
        finished = FinishedJobRegistry(queue=noop)
        while finished.count < students:
            time.sleep(0.02)
        raw_seconds = time.monotonic() - started

    with stage.workers(BUILTIN_WORKERS):
        started = time.monotonic()
        with api_client(stage.api_base) as client:
            response = client.post(f"{PREFIX}/evaluation/{evaluation_id}/batch-queue", json={"student_ids": ids})
            response.raise_for_status()
        job_ids = [item["job_id"] for item in response.json()["results"]]
        stage.wait_until_ended(job_ids)
        ours_seconds = time.monotonic() - started
    outcome = stage.outcomes(job_ids)

    overhead = Result("1 pipeline overhead")
    overhead.measures = {
        "jobs": students,
        "workers": BUILTIN_WORKERS,
        "raw_rq_jobs_per_s": round(students / raw_seconds, 1),
        "builtin_summaries_per_s": round(students / ours_seconds, 1),
        "ratio": round(raw_seconds / ours_seconds, 3),
        "ms_per_job_beyond_raw_rq": round((ours_seconds - raw_seconds) / students * BUILTIN_WORKERS * 1000, 1),
        **outcome,
    }
    overhead.target("ratio", ">= 0.50 of raw RQ", overhead.measures["ratio"] >= 0.5)

    big = Result("4 big evaluation")
    big.measures = {"students": students, "workers": BUILTIN_WORKERS, "seconds_to_last_summary": round(ours_seconds, 1)}
    # The target is for 1,000 students; a smaller run is held to the same rate.
    big.target("seconds_to_last_summary", "< 30 s for 1,000 students", ours_seconds * 1000 / students < 30)
    return [overhead, big]


# --- 2, 3, 6, 7: against a fake LLM with latency L and capacity P -----------


@dataclass
class LLMRun:
    jobs: int
    seconds: float
    calls: int
    outcome: dict


def _llm_run(stage: Stage, fake: FakeLLM, evaluation_id: int, students: list[int]) -> LLMRun:
    fake.reset()
    job_ids = stage.queue_fresh(evaluation_id, students)
    seconds = stage.wait_until_ended(job_ids)
    return LLMRun(len(job_ids), seconds, len(fake.requests), stage.outcomes(job_ids))


def llm_scenarios(stage: Stage) -> list[Result]:
    """Saturation (2), a class (3), backpressure (6) and LLM calls per summary (7), against one fake LLM."""
    capacity = 8  # the fake server's P
    latency = 1.0
    fake = stage.fake_llm
    fake.latency = latency
    biggest = stage.size(smoke=8, quick=64, full=64)
    evaluation_id, students = stage.evaluation(max(biggest, 32), language="en")
    results: list[Result] = []
    calls = summaries = 0

    def pool(workers: int):
        # As an operator would run it: LLM_MAX_CONCURRENCY at the server's slots (or fewer workers).
        return stage.workers(workers, LLM_MAX_CONCURRENCY=str(min(workers, capacity)), **stage.llm_env())

    try:
        # 2. Saturation: `biggest` summaries with one worker per server slot; then 1..16 workers.
        with pool(capacity):
            main = _llm_run(stage, fake, evaluation_id, students[:biggest])
        ideal = math.ceil(main.jobs / capacity) * latency
        calls, summaries = calls + main.calls, summaries + main.jobs
        saturation = Result("2 llm saturation")
        saturation.measures = {
            "jobs": main.jobs, "latency_s": latency, "capacity": capacity, "workers": capacity,
            "seconds": round(main.seconds, 2), "ideal_seconds": ideal, "saturation": round(ideal / main.seconds, 3),
            "summaries_per_s": round(main.jobs / main.seconds, 2), **main.outcome,
        }
        saturation.target("saturation", ">= 0.90 of ideal", ideal / main.seconds >= 0.9)
        saturation.target("failed", "no errors", main.outcome["statuses"].get("failed", 0) == 0)
        sweep = {}
        for workers in stage.size(smoke=(2,), quick=(1, 2, 4, 8, 16), full=(1, 2, 4, 8, 16)):
            jobs = stage.size(smoke=2, quick=4, full=8) * min(workers, capacity)
            with pool(workers):
                run = _llm_run(stage, fake, evaluation_id, students[:jobs])
            calls, summaries = calls + run.calls, summaries + run.jobs
            sweep[workers] = {
                "jobs": run.jobs, "summaries_per_s": round(run.jobs / run.seconds, 2),
                "ideal_per_s": min(workers, capacity) / latency, "failed": run.outcome["statuses"].get("failed", 0),
            }
        saturation.measures["by_workers"] = sweep
        results.append(saturation)

        with pool(capacity):
            # 3. A class through the API, then the same class again unchanged: no LLM call at all.
            class_size = stage.size(smoke=4, quick=30, full=30)
            fake.latency = 2.0
            class_id, _ = stage.evaluation(class_size, language="en")
            fake.reset()
            with api_client(stage.api_base) as client:
                started = time.monotonic()
                first = client.post(f"{PREFIX}/evaluation/{class_id}/batch-queue")
                first.raise_for_status()
                job_ids = [item["job_id"] for item in first.json()["results"]]
                stage.wait_until_ended(job_ids)
                seconds = time.monotonic() - started
                first_calls = len(fake.requests)
                fake.reset()
                again = client.post(f"{PREFIX}/evaluation/{class_id}/batch-queue")
                again.raise_for_status()
                stage.wait_until_ended([item["job_id"] for item in again.json()["results"]])
            ideal = math.ceil(class_size / capacity) * fake.latency
            calls, summaries = calls + first_calls, summaries + class_size
            klass = Result("3 a class")
            klass.measures = {
                "students": class_size, "latency_s": fake.latency, "capacity": capacity,
                "seconds_to_last_summary": round(seconds, 2), "ideal_seconds": ideal,
                "over_ideal": round(seconds / ideal - 1, 3), "llm_calls_queued_again": len(fake.requests),
                **stage.outcomes(job_ids),
            }
            klass.target("over_ideal", "within 15 % of ideal", seconds <= ideal * 1.15)
            klass.target("llm_calls_queued_again", "0", len(fake.requests) == 0)
            results.append(klass)

            # 6. Backpressure: the server turns everyone away with 429 and Retry-After: 2 for 10 s.
            fake.latency = latency
            burst = 10.0
            jobs = stage.size(smoke=4, quick=32, full=64)
            fake.reset()
            fake.overload(burst, status=429, retry_after=2)
            job_ids = stage.queue_fresh(evaluation_id, students[:jobs])
            seconds = stage.wait_until_ended(job_ids)
            outcome = stage.outcomes(job_ids)
            ideal = math.ceil(jobs / capacity) * latency + burst
            calls, summaries = calls + len(fake.requests) - fake.overloaded, summaries + jobs
            pressure = Result("6 backpressure")
            pressure.measures = {
                "jobs": jobs, "overload_s": burst, "retry_after_s": 2, "seconds": round(seconds, 2),
                "ideal_seconds": ideal, "over_ideal": round(seconds / ideal - 1, 3), "turned_away": fake.overloaded,
                **outcome,
            }
            pressure.target("failed", "0 failed jobs", outcome["statuses"].get("failed", 0) == 0)
            pressure.target("extra_attempts", "no attempt spent on a 429", outcome["extra_attempts"] == 0)
            results.append(pressure)
    finally:
        fake.reset()

    per_summary = Result("7 llm calls per summary")
    per_summary.measures = {"summaries": summaries, "llm_calls": calls, "calls_per_summary": round(calls / summaries, 3)}
    per_summary.target("calls_per_summary", "1 on the happy path", calls == summaries)
    results.append(per_summary)
    return results


# --- 5: the API under 32 concurrent clients --------------------------------


async def _load(
    base: str, seconds: float, pick: Callable[[random.Random], tuple[str, str, dict | None]], headers: dict = TEACHER
) -> dict:
    """32 clients sending what `pick` chooses for `seconds` with `headers`: latencies (ms) per kind and errors."""
    latencies: dict[str, list[float]] = {}
    errors: dict[str, int] = {}
    deadline = time.monotonic() + seconds

    async def client(n: int) -> None:
        rng = random.Random(n)
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as http:
            while time.monotonic() < deadline:
                kind, path, body = pick(rng)
                started = time.perf_counter()
                try:
                    response = await http.request("GET" if kind == "status" else "POST", path, json=body)
                    ok = response.status_code < 400
                except httpx.HTTPError:
                    ok = False
                latencies.setdefault(kind, []).append((time.perf_counter() - started) * 1000)
                if not ok:
                    errors[kind] = errors.get(kind, 0) + 1

    began, cpu = time.monotonic(), time.process_time()
    await asyncio.gather(*(client(n) for n in range(32)))
    elapsed, cpu = time.monotonic() - began, time.process_time() - cpu
    requests = sum(len(v) for v in latencies.values())
    summary = {
        "requests_per_s": round(requests / elapsed, 1),
        # The load generator's own CPU per request: near 1000 / requests_per_s, it is what limits the run.
        "client_cpu_ms": round(cpu / max(requests, 1) * 1000, 2),
        "errors": errors,
    }
    for kind, values in latencies.items():
        values.sort()
        summary[kind] = {
            "requests": len(values),
            "p50_ms": round(statistics.median(values), 1),
            "p99_ms": round(values[min(len(values) - 1, int(len(values) * 0.99))], 1),
        }
    return summary


def api_processes() -> int:
    """Processes serving the API in scenario 5: one per core, as an operator would set API_WORKERS.

    A request is CPU work under one process's GIL (the database and Redis answer
    in well under a millisecond here), so a second process per core adds only
    switching; fewer leaves a core to the load generator and Redis alone.
    """
    return os.cpu_count() or 1


def api_under_load(stage: Stage) -> list[Result]:
    """queue, batch-queue and status under 32 clients on SQLite and on PostgreSQL, served as in production
    (`peerdigest api --workers N`, API tokens, rate limits counted), next to a bare endpoint doing only an RQ
    enqueue."""
    seconds = stage.size(smoke=2, quick=6, full=20)
    processes = api_processes()
    bare_app = [sys.executable, "-m", "uvicorn", "bench.bare_api:app", "--log-level", "warning",
                "--workers", str(processes)]
    with stage.api(bare_app) as bare_base:
        bare = _measured(
            lambda t: asyncio.run(_load(bare_base, t, lambda rng: ("bare_enqueue", "/enqueue", None))), seconds
        )
    results = []
    for engine in ("sqlite", "postgresql"):
        result = Result(f"5 api {engine}")
        result.measures = {"clients": 32, "seconds": seconds, "api_processes": processes, "bare": bare}
        try:
            with _database(stage, engine) as url:
                ours = _api_run(replace(stage, settings=stage.settings.model_copy(update={"database_url": url})),
                                seconds, processes)
        except OperationalError as exc:  # no PostgreSQL server: the row says so and its targets are not met
            result.measures["not_run"] = str(exc).splitlines()[0]
            result.target("ran", "runs on this database", False)
            results.append(result)
            continue
        result.measures["ours"] = ours
        worst_p99 = max(ours[k]["p99_ms"] for k in ("status", "queue", "batch_queue") if k in ours)
        result.measures["worst_p99_ms"] = worst_p99
        result.measures["queue_p50_minus_bare_p50_ms"] = round(
            ours["queue"]["p50_ms"] - bare["bare_enqueue"]["p50_ms"], 1)
        result.target("errors", "0", not ours["errors"])
        result.target("worst_p99_ms", "p99 < 100 ms", worst_p99 < 100)
        result.target("queue_p50_minus_bare_p50_ms", "queue p50 <= bare enqueue p50 + 5 ms",
                      result.measures["queue_p50_minus_bare_p50_ms"] <= 5)
        results.append(result)
    return results


@contextmanager
def _database(stage: Stage, engine: str) -> Iterator[str]:
    """A fresh, migrated database of `engine` for one API run: a file in the work directory, or a per-run
    database on the PostgreSQL server (dropped afterwards)."""
    if engine == "postgresql":
        with postgresql_database() as url:
            yield url
        return
    url = f"sqlite:///{stage.workdir}/api-{time.monotonic_ns()}.db"
    upgrade(url)
    yield url


def _api_run(stage: Stage, seconds: float, processes: int) -> dict:
    """Seed an evaluation and 40 jobs in `stage`'s database, then 32 clients against the API serving it."""
    evaluation_id, students = stage.evaluation(stage.size(smoke=8, quick=120, full=400), language="nl")
    known_jobs = stage.queue_fresh(evaluation_id, students[:40])
    classes = [students[i:i + 30] for i in range(0, len(students), 30)]

    def pick(rng: random.Random) -> tuple[str, str, dict | None]:
        roll = rng.random()
        if roll < 0.75:
            return "status", f"{PREFIX}/jobs/{rng.choice(known_jobs)}/status", None
        if roll < 0.95:
            return "queue", f"{PREFIX}/evaluation/{evaluation_id}/student/{rng.choice(students)}/queue", None
        return "batch_queue", f"{PREFIX}/evaluation/{evaluation_id}/batch-queue", {"student_ids": rng.choice(classes)}

    api = [sys.executable, "-m", "peerdigest", "api", "--workers", str(processes)]
    production = {"auth_mode": "token", "rate_limit_enabled": "true", **UNREACHED_LIMITS}
    bearer = stage.bearer()
    with stage.api(api, **{name.upper(): value for name, value in production.items()}) as base:
        return _measured(lambda t: asyncio.run(_load(base, t, pick, bearer)), seconds)


def _measured(run: Callable[[float], dict], seconds: float) -> dict:
    """The measures of `run` for `seconds`, with the machine's load average before and after: on a shared
    machine, latency under load says as much about the neighbours as about us.

    A warm-up run goes first and does not count: every process of the server
    starts (the first answers to /healthz come while the others still import)
    and fills its pools and caches, as a server in production has long done.
    """
    run(WARM_UP_SECONDS)
    before = os.getloadavg()
    measures = run(seconds)
    return {**measures, "load_before": round(before[0], 2), "load_after": round(os.getloadavg()[0], 2)}


# In the order they run: the builtin pool first, the LLM pool next, the API last (its jobs are left queued).
SCENARIOS: list[Callable[[Stage], list[Result]]] = [pipeline_overhead, llm_scenarios, api_under_load]
