"""The machinery of a fault scenario: its own Redis, real processes, and the ledger that judges the outcome.

A scenario starts what it needs (`worker`, `scheduler`, `api`) as real
`peerdigest` processes on the scenario's own Redis, injects its fault, waits
until every accepted job has ended (`settle`), and then `judge`s: every
accepted job reached exactly one terminal state, every completed job has
exactly one summary, none was completed twice. The verdict is a table row.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
from redis import Redis
from sqlalchemy import func, select

from peerdigest.config import Settings
from peerdigest.db.models import FeedbackSummary, JobStatus, SummaryJob
from peerdigest.db.session import session_scope
from peerdigest.dev.embedded_redis import EmbeddedRedis, free_port, server_binary
from peerdigest.queue.connection import answers, connect
from tests.conftest import settings_env
from tests.support.api import PREFIX, TEACHER, api_client

ENDED = (JobStatus.completed, JobStatus.failed, JobStatus.cancelled)


@dataclass(frozen=True)
class Verdict:
    scenario: str
    accepted: int
    completed: int
    failed: int
    lost: int
    duplicates: int
    recovery: float  # seconds from the fault until the last accepted job ended


@dataclass
class Scenario:
    name: str
    settings: Settings
    redis_server: EmbeddedRedis
    directory: Path
    processes: list[subprocess.Popen] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)
    fault_at: float | None = None

    @property
    def redis(self):
        return connect(self.settings.redis_url)

    def configure(self, **values) -> None:
        """Settings for the processes started from now on."""
        self.settings = self.settings.model_copy(update=values)

    # --- processes --------------------------------------------------------------------

    def start(self, *args: str, settings: Settings | None = None) -> subprocess.Popen:
        """`peerdigest ARGS` as a real process in its own session, logging to a file of the scenario."""
        log = self.directory / f"{args[0]}-{len(self.logs) + 1}.log"
        self.logs.append(log)
        process = subprocess.Popen(
            [sys.executable, "-m", "peerdigest", *args], env=settings_env(settings or self.settings),
            cwd=self.directory, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
        )
        self.processes.append(process)
        return process

    def worker(self) -> subprocess.Popen:
        """A worker, once it listens on the queues."""
        return self._started("worker", "Listening on")

    def scheduler(self) -> subprocess.Popen:
        """The scheduler (its reconciler runs every RECONCILE_INTERVAL seconds), once it runs."""
        return self._started("scheduler", "scheduler started")

    def _started(self, command: str, ready: str) -> subprocess.Popen:
        process = self.start(command)
        log = self.logs[-1]
        wait_for(lambda: ready in log.read_text() or process.poll() is not None, f"the {command} to start", self)
        assert process.poll() is None, self.tail()
        return process

    def api(self) -> str:
        """The API under uvicorn; returns its base URL once it answers."""
        port = free_port()
        process = self.start("api", "--port", str(port))
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: _answers(base) or process.poll() is not None, "the API to answer", self)
        assert process.poll() is None, self.tail()
        return base

    def recover(self) -> subprocess.Popen:
        """`peerdigest jobs recover`, started now; the caller waits for it."""
        return self.start("jobs", "recover")

    def kill(self, process: subprocess.Popen) -> None:
        """SIGKILL a process and everything it started (work horse, RQ scheduler), as a lost machine would."""
        family = [psutil.Process(process.pid), *psutil.Process(process.pid).children(recursive=True)]
        for member in family:
            member.send_signal(signal.SIGKILL)
        psutil.wait_procs(family, timeout=10)

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill(process)

    def tail(self, lines: int = 40) -> str:
        return "\n".join(f"--- {log.name}\n" + "\n".join(log.read_text().splitlines()[-lines:]) for log in self.logs)

    # --- jobs, faults and outcome --------------------------------------------------------

    def queue(self, pairs: list[tuple[int, int]]) -> list[str]:
        """Queue a summary for each (evaluation, student) through the API; the accepted job ids."""
        client = api_client(self.settings)
        accepted = [client.post(f"{PREFIX}/evaluation/{e}/student/{s}/queue", headers=TEACHER) for e, s in pairs]
        assert [response.status_code for response in accepted] == [202] * len(pairs)
        return [response.json()["job_id"] for response in accepted]


    def fault(self) -> None:
        """Mark now as the moment of the fault: recovery time counts from here."""
        self.fault_at = time.monotonic()

    def rows(self, job_ids: list[str]) -> dict[str, SummaryJob]:
        with session_scope(self.settings.database_url) as session:
            return {job.job_id: job for job in session.scalars(select(SummaryJob).where(SummaryJob.job_id.in_(job_ids)))}

    def settle(self, job_ids: list[str], timeout: float = 60) -> float:
        """Wait until every job has ended; returns the seconds since the fault."""
        wait_for(lambda: all(job.status in ENDED for job in self.rows(job_ids).values())
                 and len(self.rows(job_ids)) == len(job_ids), f"{len(job_ids)} jobs to end", self, timeout)
        return time.monotonic() - (self.fault_at or time.monotonic())

    def judge(self, job_ids: list[str], recovery: float) -> Verdict:
        """Check the promises for every accepted job and return the table row."""
        rows = self.rows(job_ids)
        completions = Counter(
            match for log in self.logs for match in re.findall(r"job (\S+): completed", log.read_text())
        )
        with session_scope(self.settings.database_url) as session:
            summaries = Counter(
                {(e, s): n for e, s, n in session.execute(
                    select(FeedbackSummary.evaluation_id, FeedbackSummary.student_id, func.count())
                    .group_by(FeedbackSummary.evaluation_id, FeedbackSummary.student_id)
                )}
            )
        lost = [job_id for job_id in job_ids if job_id not in rows or rows[job_id].status not in ENDED]
        duplicates = [job_id for job_id in job_ids if completions[job_id] > 1]
        completed = [job for job in rows.values() if job.status == JobStatus.completed]
        for job in completed:
            assert summaries[(job.evaluation_id, job.student_id)] == 1, f"{job.job_id}: not exactly one summary"
        assert not lost, f"lost: {lost}\n{self.tail()}"
        assert not duplicates, f"completed more than once: {duplicates}\n{self.tail()}"
        return Verdict(
            self.name, accepted=len(job_ids), completed=len(completed),
            failed=sum(job.status == JobStatus.failed for job in rows.values()),
            lost=len(lost), duplicates=len(duplicates), recovery=recovery,
        )


def wait_for(condition, what: str, scenario: Scenario | None = None, timeout: float = 60) -> None:
    """Poll `condition` until it holds; fail with the processes' logs after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}\n{scenario.tail() if scenario else ''}"
        time.sleep(0.1)


def _answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


@dataclass
class Sentinels:
    """A replica of `master` and three Sentinels watching it (quorum 2), each a real redis-server on a free port.

    They notice a dead master after a second and promote the replica: what a
    production Sentinel setup does, in seconds.
    """

    master: EmbeddedRedis
    directory: Path
    name: str = "peerdigest-master"
    processes: list[subprocess.Popen] = field(default_factory=list)
    ports: list[int] = field(default_factory=list)
    replica_port: int = 0

    def start(self) -> Sentinels:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.replica_port = free_port()
        self._run("replica", "--port", str(self.replica_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                  "--dir", str(self.directory.resolve()), "--replicaof", "127.0.0.1", str(self.master.port))
        replica = connect(f"redis://127.0.0.1:{self.replica_port}/0")
        wait_for(lambda: answers(replica) and replica.info("replication").get("master_link_status") == "up",
                 "the replica to follow the master")
        for number in range(3):
            port = free_port()
            config = self.directory / f"sentinel-{number}.conf"
            config.write_text(
                f"port {port}\nbind 127.0.0.1\ndir {self.directory.resolve()}\n"
                f"sentinel monitor {self.name} 127.0.0.1 {self.master.port} 2\n"
                f"sentinel down-after-milliseconds {self.name} 1000\n"
                f"sentinel failover-timeout {self.name} 5000\n"
            )
            self._run(f"sentinel-{number}", str(config), "--sentinel")
            self.ports.append(port)
        for port in self.ports:
            sentinel = Redis(port=port, socket_connect_timeout=1)
            wait_for(lambda: answers(sentinel) and int(sentinel.info("sentinel")["master0"]["sentinels"]) == 3,
                     "the Sentinels to know each other")
        return self

    @property
    def addresses(self) -> str:
        return ",".join(f"127.0.0.1:{port}" for port in self.ports)

    def master_port(self) -> int:
        """The port of the master the Sentinels name now."""
        _, port = Redis(port=self.ports[0]).sentinel_get_master_addr_by_name(self.name)
        return int(port)

    def _run(self, name: str, *args: str) -> None:
        log = (self.directory / f"{name}.log").open("w")
        self.processes.append(
            subprocess.Popen([server_binary(), *args], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        )

    def stop(self) -> None:
        for process in self.processes:
            process.kill()
            process.wait(10)
