"""How a worker should run summary jobs: a forked work horse per job, one horse kept for many jobs, the job
in the worker itself, or several jobs at once in one process. Measured on the real pipeline, side by side in one run.

    .venv/bin/python bench/worker_models.py [--jobs 48] [--latency 1] [--capacity 8] [--processes 2,4,8]

An embedded Redis on a free port, a PostgreSQL database of its own (SQLite when no server answers at
BENCH_POSTGRES or 127.0.0.1:5432), and the fake LLM (`capacity` requests at once, each taking
`latency` seconds). For each model and count it queues the same jobs, runs burst workers until the
queues are empty, and reports summaries/s from the first job's start to the last one's end (process
start-up is the same for every model and left out), the ideal jobs / min(count, capacity) x latency,
and the memory of the whole process tree at its largest (sum of each process's own, unshared pages).

- fork:    count processes of our worker with a new horse for every job, as RQ's own Worker does
- reused:  `peerdigest worker --burst`, count processes: the horse stays for the next job (`queue.horse`)
- pool:    `peerdigest worker --burst --processes count`: the same workers, forked from one supervisor
- inline:  count processes whose worker runs the job itself (RQ's SimpleWorker on our queues)
- threads: one process, count threads each running such a worker (RQ's TimerDeathPenalty for timeouts,
           since only the main thread may take signals): several jobs in flight in one process

Results are printed and written to build/bench/worker-models-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import psutil
from sqlalchemy import create_engine, delete, func, select, text
from sqlalchemy.engine import make_url

from peerdigest.config import Settings
from peerdigest.db.migrate import upgrade
from peerdigest.db.models import FeedbackSummary, JobStatus, School, SummaryJob
from peerdigest.db.session import engine_for, session_scope
from peerdigest.dev.embedded_redis import EmbeddedRedis
from peerdigest.dev.seed import load_demo, seed_demo, seed_evaluation
from peerdigest.domain.feedback import evaluation_students
from peerdigest.queue.connection import connect
from peerdigest.queue.enqueue import request_summary
from peerdigest.testing.fake_llm import FakeLLM, careful_model

ROOT = Path(__file__).resolve().parents[1]
MODELS = ("fork", "reused", "pool", "inline", "threads")


def serve(model: str, count: int) -> None:
    """The inline and threads models, in a process of their own: burst workers until the queues are empty."""
    from rq import SimpleWorker
    from rq.timeouts import TimerDeathPenalty

    from peerdigest.config import load_settings
    from peerdigest.queue.queues import all_queues
    from peerdigest.queue.tasks import use_settings
    from peerdigest.queue.worker import SummaryWorker

    class ForkingWorker(SummaryWorker):
        jobs_per_horse = 1

    class InlineWorker(SimpleWorker, SummaryWorker):
        pass

    class ThreadWorker(InlineWorker):
        death_penalty_class = TimerDeathPenalty

        def _install_signal_handlers(self):
            pass  # only the main thread may install them; the bench ends its workers by burst

    settings = load_settings()
    use_settings(settings)  # as `peerdigest worker` does

    def work(worker_class: type) -> None:
        redis = connect(settings.redis_url)
        worker = worker_class([q.name for q in all_queues(redis)], connection=redis, job_monitoring_interval=30)
        worker.work(burst=True, with_scheduler=False, logging_level="WARNING")

    if model in ("fork", "inline"):
        work(ForkingWorker if model == "fork" else InlineWorker)
        return
    threads = [threading.Thread(target=work, args=(ThreadWorker,)) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def database() -> tuple[str, callable]:
    base = os.environ.get("BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    try:
        admin = create_engine(base, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 2})
        name = f"peerdigest_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception:
        directory = Path(tempfile.mkdtemp(prefix="peerdigest-bench-"))
        return f"sqlite:///{directory / 'bench.db'}", lambda: None

    def drop() -> None:
        engine_for(url).dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    return url, drop


def evaluations_for(settings: Settings, jobs: int) -> list[tuple[int, int]]:
    """(evaluation, student) pairs for `jobs` jobs: the demo school, with more evaluations of its teams."""
    demo = load_demo()
    spec = demo["evaluations"][0]
    with session_scope(settings.database_url) as session:
        seeded = seed_demo(session)
        school = session.scalar(select(School).where(School.name == demo["school"]))
        teams = {name: [{**m, "id": seeded.users[m["id"]]} for m in members] for name, members in demo["teams"].items()}
        ids = [seeded.evaluations[spec["id"]]]
        while len(ids) * 8 < jobs:
            more = {**spec, "id": None, "seed": spec["id"], "title": f"{spec['title']} {len(ids)}"}
            ids.append(seed_evaluation(session, school, more, teams, demo["comments"][spec["language"]]).id)
    with session_scope(settings.database_url) as session:
        return [(e, s) for e in ids for s in evaluation_students(session, e)][:jobs]


def measure(settings: Settings, env: dict, pairs: list[tuple[int, int]], model: str, count: int) -> dict:
    redis = connect(settings.redis_url)
    redis.flushdb()
    with session_scope(settings.database_url) as session:
        session.execute(delete(SummaryJob))
        session.execute(delete(FeedbackSummary))
    with session_scope(settings.database_url) as session:
        job_ids = [request_summary(session, redis, settings, evaluation_id=e, student_id=s, requested_by_id=None,
                                   force=True).job.job_id for e, s in pairs]
    if model == "reused":
        commands = [[sys.executable, "-m", "peerdigest", "worker", "--burst"]] * count
    elif model == "pool":
        commands = [[sys.executable, "-m", "peerdigest", "worker", "--burst", "--processes", str(count)]]
    else:
        per_process = count if model == "threads" else 1  # fork, inline: one worker a process
        commands = [[sys.executable, __file__, "--serve", model, str(per_process)]] * (1 if model == "threads" else count)
    processes = [subprocess.Popen(c, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for c in commands]
    peak_uss = 0.0
    peak_processes = 0
    while any(p.poll() is None for p in processes):
        tree = []
        for p in processes:
            try:
                parent = psutil.Process(p.pid)
                tree += [parent, *parent.children(recursive=True)]
            except psutil.NoSuchProcess:
                pass
        uss = 0
        for member in tree:
            try:
                uss += member.memory_full_info().uss
            except psutil.NoSuchProcess:
                pass
        peak_uss = max(peak_uss, uss / 2**20)
        peak_processes = max(peak_processes, len(tree))
        time.sleep(0.25)
    with session_scope(settings.database_url) as session:
        done = session.execute(
            select(func.count(), func.min(SummaryJob.started_at), func.max(SummaryJob.completed_at))
            .where(SummaryJob.job_id.in_(job_ids), SummaryJob.status == JobStatus.completed)
        ).one()
    completed, first, last = done
    seconds = (last - first).total_seconds() if completed else float("nan")
    return {
        "model": model, "count": count, "jobs": len(job_ids), "completed": completed,
        "seconds": round(seconds, 2), "per_s": round(completed / seconds, 2) if completed else 0.0,
        "peak_own_memory_mib": round(peak_uss), "peak_processes": peak_processes,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=48)
    parser.add_argument("--latency", type=float, default=1.0)
    parser.add_argument("--capacity", type=int, default=8)
    parser.add_argument("--processes", default="2,4,8")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--serve", nargs=2, metavar=("MODEL", "COUNT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], int(args.serve[1]))
        return 0

    url, drop = database()
    directory = Path(tempfile.mkdtemp(prefix="peerdigest-bench-"))
    # The careful model answers so the guard accepts it: one request per summary, as on the happy path.
    llm = FakeLLM(default=careful_model, capacity=args.capacity, latency=args.latency).start()
    results = []
    try:
        with EmbeddedRedis(directory / "redis") as server:
            upgrade(url)
            settings = Settings(
                _env_file=None, environment="test", database_url=url, redis_url=server.url, data_dir=directory,
                llm_base_url=llm.base_url, llm_model="fake-model", llm_max_concurrency=64, rate_limit_enabled=False,
            )
            env = {**os.environ, **{k.upper(): str(v) for k, v in settings.model_dump().items() if v is not None}}
            pairs = evaluations_for(settings, args.jobs)
            for count in (int(n) for n in args.processes.split(",")):
                ideal = len(pairs) / min(count, args.capacity) * args.latency
                for model in args.models.split(","):
                    result = {**measure(settings, env, pairs, model, count), "ideal_seconds": round(ideal, 2)}
                    results.append(result)
                    print(
                        f"{model:<8} x{count:<2} {result['completed']:>3}/{result['jobs']} jobs in {result['seconds']:>6.2f}s "
                        f"(ideal {ideal:5.2f}s, {ideal / result['seconds']:4.0%}) {result['per_s']:6.2f}/s  "
                        f"peak memory {result['peak_own_memory_mib']:>4} MiB own in {result['peak_processes']} processes",
                        flush=True,
                    )
    finally:
        llm.stop()
        drop()
    out = ROOT / "build" / "bench" / f"worker-models-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"latency": args.latency, "capacity": args.capacity, "results": results}, indent=2))
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
