"""What every scenario runs on: a Redis of its own, a fresh database, seeded evaluations, and real processes.

Everything is local: an embedded Redis on a free port (never a shared one), a
SQLite database in a temporary directory (or BENCH_DATABASE_URL), the API under
uvicorn, worker pools started with `peerdigest worker --processes N`, and the
fake OpenAI-compatible server in a thread of this process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import create_engine, func, make_url, select, text

from peerdigest.config import Settings
from peerdigest.db.models import JobStatus, School, SummaryJob, User
from peerdigest.db.migrate import upgrade
from peerdigest.db.session import engine_for, session_scope
from peerdigest.dev.embedded_redis import free_port
from peerdigest.dev.seed import load_demo, seed_evaluation
from peerdigest.domain.auth import create_token
from peerdigest.queue.connection import connect
from peerdigest.queue.enqueue import request_summaries
from peerdigest.testing.fake_llm import FakeLLM
from peerdigest.testing.serving import wait_until_serving

ROOT = Path(__file__).resolve().parents[1]
TEACHER = {"X-User-Email": "bench-teacher@example.com"}
PREFIX = "/api/v1/feedback-summaries"
TEAM_SIZE = 4
# Scenario 5 and `make profile-api` count every request against the rate limits, as production does (two
# Redis round trips each), at limits no run reaches: one bench teacher sends every request of 32 clients.
UNREACHED_LIMITS = {f"rate_limit_{kind}": "100000/minute" for kind in ("queue", "batch", "status", "default")}
# The PostgreSQL server whose databases the bench makes and drops (any database on it to connect to first).
POSTGRESQL_SERVER = os.environ.get("BENCH_POSTGRESQL_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@contextmanager
def postgresql_database() -> Iterator[str]:
    """A new, migrated database on POSTGRESQL_SERVER for one run, dropped afterwards: its URL."""
    name = f"peerdigest_bench_{os.getpid()}_{int(time.time())}"
    admin = create_engine(POSTGRESQL_SERVER, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRESQL_SERVER).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        engine_for(url).dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@dataclass
class Stage:
    settings: Settings
    workdir: Path  # where the processes run and write their logs
    quick: bool
    smoke: bool
    fake_llm: FakeLLM | None = None  # the LLM every LLM scenario shares; the API knows it too (the cache key names it)
    api_base: str = ""  # the API every scenario shares, once started
    _next_evaluation: int = 900
    _processes: list[subprocess.Popen] = field(default_factory=list)

    def size(self, smoke: int, quick: int, full: int) -> int:
        return smoke if self.smoke else quick if self.quick else full

    # --- data -------------------------------------------------------------

    def evaluation(self, students: int, language: str = "en") -> tuple[int, list[int]]:
        """A new evaluation of `students` students in teams of four, scored and commented; its id and students."""
        self._next_evaluation += 1
        evaluation_id = self._next_evaluation
        demo = load_demo()
        criteria = list(demo["comments"][language])
        teams: dict[str, list[dict]] = {}
        for i in range(students):
            student_id = evaluation_id * 10_000 + i
            levels = {c: 2 + (i + j) % 4 for j, c in enumerate(criteria)}
            teams.setdefault(f"team {i // TEAM_SIZE}", []).append(
                {"id": student_id, "name": f"Leerling{i} Achternaam{i}", "levels": levels}
            )
        with session_scope(self.settings.database_url) as session:
            school = session.scalar(select(School).where(School.name == "Bench School"))
            if school is None:
                school = School(name="Bench School")
                session.add(school)
                session.flush()
                session.add(User(email=TEACHER["X-User-Email"], name="Bench Teacher", role="teacher", school_id=school.id))
            for members in teams.values():
                for m in members:
                    session.add(User(id=m["id"], email=f"s{m['id']}@example.com", name=m["name"], role="student",
                                     school_id=school.id))
            session.flush()
            spec = {"id": evaluation_id, "title": f"bench {evaluation_id}", "language": language, "criteria": criteria}
            seed_evaluation(session, school, spec, teams, demo["comments"][language])
        return evaluation_id, [m["id"] for members in teams.values() for m in members]

    def bearer(self) -> dict[str, str]:
        """The headers of the bench teacher (made by `evaluation`) signing in with an API token of their own, as a
        client of an installation in AUTH_MODE=token does."""
        with session_scope(self.settings.database_url) as session:
            teacher = session.scalar(select(User).where(User.email == TEACHER["X-User-Email"]))
            secret = create_token(session, teacher, name="bench", expires_in=None).secret
        return {"Authorization": f"Bearer {secret}"}

    def queue_fresh(self, evaluation_id: int, students: list[int]) -> list[str]:
        """Queue new summaries for `students` (skipping the cache), as a class: the ids of their jobs."""
        with session_scope(self.settings.database_url) as session:
            accepted = request_summaries(
                session, connect(self.settings.redis_url), self.settings,
                evaluation_id=evaluation_id, student_ids=students, requested_by_id=None, force=True,
            )
            return [a.job.job_id for a in accepted]

    def wait_until_ended(self, job_ids: list[str], timeout: float = 900) -> float:
        """Seconds until every job in `job_ids` has ended (completed, failed or cancelled)."""
        started = time.monotonic()
        while True:
            with session_scope(self.settings.database_url) as session:
                ended = session.scalar(
                    select(func.count()).select_from(SummaryJob).where(
                        SummaryJob.job_id.in_(job_ids), SummaryJob.status.not_in(JobStatus.open())
                    )
                )
            if ended >= len(job_ids):
                return time.monotonic() - started
            if time.monotonic() - started > timeout:
                raise TimeoutError(f"only {ended} of {len(job_ids)} jobs ended within {timeout:.0f}s")
            time.sleep(0.05)

    def outcomes(self, job_ids: list[str]) -> dict:
        """How the jobs ended: counts by status and by method, and the attempts beyond the first."""
        with session_scope(self.settings.database_url) as session:
            jobs = session.scalars(select(SummaryJob).where(SummaryJob.job_id.in_(job_ids))).all()
        methods: dict[str, int] = {}
        statuses: dict[str, int] = {}
        for job in jobs:
            statuses[job.status] = statuses.get(job.status, 0) + 1
            method = (job.result or {}).get("generation_method")
            if method:
                methods[method] = methods.get(method, 0) + 1
        return {"statuses": statuses, "methods": methods, "extra_attempts": sum(max(0, j.attempts - 1) for j in jobs)}

    # --- processes --------------------------------------------------------

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        for name, value in self.settings.model_dump().items():
            if value is not None:
                env[name.upper()] = str(value)
        env.update(extra)
        return env

    def llm_env(self) -> dict[str, str]:
        """The settings that point a process at the fake LLM."""
        return {"LLM_BASE_URL": self.fake_llm.base_url, "LLM_MODEL": "fake-model", "LLM_TIMEOUT": "120"}

    def start(self, args: list[str], env: dict[str, str], log: str) -> subprocess.Popen:
        out = open(self.workdir / f"{log}.log", "ab")  # noqa: SIM115 - the process writes to it until it ends
        process = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=self.workdir)
        self._processes.append(process)
        return process

    def workers(self, processes: int, **env: str):
        """A pool of `processes` summary workers (`peerdigest worker --processes N`) while the block runs."""
        command = [sys.executable, "-m", "peerdigest", "worker", "--processes", str(processes)]
        return self._pool(command, self.env(**env), processes, f"workers-{processes}")

    def raw_rq_workers(self, processes: int, queue: str):
        """RQ's own worker pool, the same worker class (RQ's forking `Worker`), on the same Redis."""
        rq = str(Path(sys.executable).with_name("rq"))
        command = [rq, "worker-pool", "-n", str(processes), "-u", self.settings.redis_url, queue]
        return self._pool(command, self.env(), processes, f"raw-rq-{processes}")

    @contextmanager
    def _pool(self, command: list[str], env: dict[str, str], processes: int, log: str) -> Iterator[subprocess.Popen]:
        pool = self.start(command, env, log)
        try:
            self._wait_for_workers(processes, pool)
            yield pool
        finally:
            self.stop(pool)

    @contextmanager
    def api(self, args: list[str] | None = None, **env: str) -> Iterator[str]:
        """The API (or another ASGI app given as `args`) under uvicorn on a free port, with `env` over the
        stage's settings; its base URL."""
        port = free_port()
        command = args or [sys.executable, "-m", "peerdigest", "api"]
        process = self.start([*command, "--port", str(port)], self.env(**self.llm_env(), **env), f"api-{port}")
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_serving(base, process, timeout=60)
            yield base
        finally:
            self.stop(process)

    def _wait_for_workers(self, count: int, process: subprocess.Popen, timeout: float = 120) -> None:
        """Until `count` more workers than before are registered on Redis and idle."""
        from rq import Worker

        redis = connect(self.settings.redis_url)
        deadline = time.monotonic() + timeout
        while len([w for w in Worker.all(connection=redis) if w.get_state() == "idle"]) < count:
            if process.poll() is not None:
                raise RuntimeError(f"the worker pool exited with {process.returncode}; see {self.workdir}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{count} workers did not start within {timeout:.0f}s")
            time.sleep(0.2)

    def stop(self, process: subprocess.Popen) -> None:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        # Workers that ended by a signal leave their registrations until these expire; drop them now,
        # so the next pool's wait counts only its own.
        from rq import Worker

        redis = connect(self.settings.redis_url)
        for worker in Worker.all(connection=redis):
            if worker.get_state() != "busy":
                worker.register_death()

    def stop_all(self) -> None:
        for process in self._processes:
            if process.poll() is None:
                process.kill()
                process.wait()


def api_client(base: str) -> httpx.Client:
    return httpx.Client(base_url=base, headers=TEACHER, timeout=60)
