"""`make bench`: speed and memory of the real processes, against targets.

Everything runs on this machine: an embedded Redis on a free port, a SQLite
database (or BENCH_DATABASE_URL), the API under uvicorn, worker processes and,
for the LLM scenario, the local fake OpenAI-compatible server with a fixed
latency. Results are printed as a table and written to bench/results/latest.json.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from peerdigest.config import Settings  # noqa: E402
from peerdigest.db.migrate import upgrade  # noqa: E402
from peerdigest.db.models import JobStatus, School, SummaryJob, User  # noqa: E402
from peerdigest.db.session import session_scope  # noqa: E402
from peerdigest.dev.embedded_redis import EmbeddedRedis, free_port  # noqa: E402
from peerdigest.dev.seed import load_demo, seed_evaluation  # noqa: E402
from peerdigest.testing.serving import wait_until_serving  # noqa: E402
from peerdigest.testing.fake_llm import FakeLLM, Reply, reply_with_sentences  # noqa: E402

STUDENTS = int(os.environ.get("BENCH_STUDENTS", "200"))
TARGETS = {
    "accept_p95_ms": ("<=", 100.0),
    "builtin_jobs_per_s": (">=", 5.0),
    "llm_jobs_per_s": (">=", 3.0),
    "llm_max_in_flight": ("<=", None),  # filled in: the configured cap
    "worker_peak_rss_mb": ("<=", 250.0),
    "api_peak_rss_mb": ("<=", 250.0),
}


def seed(settings: Settings, evaluation_id: int, language: str) -> list[int]:
    demo = load_demo()
    criteria = [c for c in demo["comments"][language]]
    teams: dict[str, list[dict]] = {}
    for i in range(STUDENTS):
        student_id = evaluation_id * 10_000 + i
        levels = {c: 2 + (i + j) % 4 for j, c in enumerate(criteria)}
        teams.setdefault(f"team {i // 4}", []).append({"id": student_id, "name": f"Leerling{i} Achternaam{i}", "levels": levels})
    with session_scope(settings.database_url) as session:
        school = session.scalar(select(School).where(School.name == "Bench School"))
        if school is None:
            school = School(name="Bench School")
            session.add(school)
            session.flush()
            session.add(User(email="bench-teacher@example.com", name="Bench Teacher", role="teacher", school_id=school.id))
        for members in teams.values():
            for m in members:
                session.add(User(id=m["id"], email=f"s{m['id']}@example.com", name=m["name"], role="student", school_id=school.id))
        session.flush()
        spec = {"id": evaluation_id, "title": f"bench {evaluation_id}", "language": language, "criteria": criteria}
        seed_evaluation(session, school, spec, teams, demo["comments"][language])
    return [m["id"] for members in teams.values() for m in members]


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def env_for(settings: Settings, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    for name, value in settings.model_dump().items():
        if value is not None:
            env[name.upper()] = str(value)
    env.update(extra)
    return env


def start(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "peerdigest", *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)


def wait_until_done(settings: Settings, evaluation_id: int, total: int, timeout: float = 600) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        with session_scope(settings.database_url) as session:
            done = session.scalar(
                select(func.count()).select_from(SummaryJob).where(
                    SummaryJob.evaluation_id == evaluation_id, SummaryJob.status.not_in(JobStatus.open())
                )
            )
        if done >= total:
            return time.monotonic() - started
        time.sleep(0.1)
    raise TimeoutError(f"only {done} of {total} jobs finished in {timeout}s")


def main() -> int:
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp, EmbeddedRedis(Path(tmp) / "redis") as redis_server:
        database_url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tmp}/bench.db"
        settings = Settings(_env_file=None, environment="test", database_url=database_url,
                            redis_url=redis_server.url, data_dir=Path(tmp), embedded_redis="never",
                            # one client sends every request: the per-user limit would measure itself
                            rate_limit_enabled=False)
        upgrade(database_url)
        builtin_students = seed(settings, 901, "nl")
        llm_students = seed(settings, 902, "en")

        port = free_port()
        api = start(["api", "--port", str(port)], env_for(settings))
        base = f"http://127.0.0.1:{port}/api/v1/feedback-summaries"
        headers = {"X-User-Email": "bench-teacher@example.com"}
        try:
            with httpx.Client(timeout=30) as client:
                wait_until_serving(f"http://127.0.0.1:{port}", api)
                # 1. Accepting requests: the API only records and enqueues.
                latencies = []
                for student_id in builtin_students:
                    t0 = time.perf_counter()
                    response = client.post(f"{base}/evaluation/901/student/{student_id}/queue", headers=headers)
                    latencies.append((time.perf_counter() - t0) * 1000)
                    response.raise_for_status()
                results["accept_p50_ms"] = statistics.median(latencies)
                results["accept_p95_ms"] = statistics.quantiles(latencies, n=20)[18]

                # 2. Builtin summaries with two workers (one per core).
                workers = [start(["worker"], env_for(settings)) for _ in range(2)]
                elapsed = wait_until_done(settings, 901, len(builtin_students))
                results["builtin_jobs_per_s"] = len(builtin_students) / elapsed

                # 3. LLM summaries: 4 workers, a fake LLM answering in 100 ms, a cap of 2 in flight.
                fake = FakeLLM(default=lambda request: Reply(reply_with_sentences(request).text, delay=0.1)).start()
                cap = 2
                TARGETS["llm_max_in_flight"] = ("<=", float(cap))
                llm_env = env_for(settings, LLM_BASE_URL=fake.base_url, LLM_MODEL="fake-model",
                                  LLM_MAX_CONCURRENCY=str(cap))
                workers += [start(["worker"], llm_env) for _ in range(4)]
                # the builtin workers would also take LLM jobs without the LLM settings; stop them first
                for w in workers[:2]:
                    w.terminate()
                    w.wait(30)
                t0 = time.monotonic()
                client.post(f"{base}/evaluation/902/batch-queue", headers=headers).raise_for_status()
                wait_until_done(settings, 902, len(llm_students))
                results["llm_jobs_per_s"] = len(llm_students) / (time.monotonic() - t0)
                results["llm_max_in_flight"] = float(fake.max_in_flight)
                results["worker_peak_rss_mb"] = max(peak_rss_mb(w.pid) for w in workers[2:])
                results["api_peak_rss_mb"] = peak_rss_mb(api.pid)
                fake.stop()
                for w in workers[2:]:
                    w.terminate()
                for w in workers[2:]:
                    w.wait(30)
        finally:
            api.terminate()
            api.wait(30)

    failures = report(results)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(json.dumps({"students": STUDENTS, "results": results}, indent=2))
    return 1 if failures else 0


def report(results: dict[str, float]) -> int:
    from rich.console import Console
    from rich.table import Table

    table = Table("measure", "value", "target", "ok")
    failures = 0
    for name, value in results.items():
        op, target = TARGETS.get(name, (None, None))
        ok = target is None or (value <= target if op == "<=" else value >= target)
        failures += not ok
        table.add_row(name, f"{value:.1f}", f"{op} {target:g}" if target is not None else "-", "yes" if ok else "NO")
    Console().print(table)
    return failures


if __name__ == "__main__":
    sys.exit(main())
