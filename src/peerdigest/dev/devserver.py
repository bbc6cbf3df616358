"""`peerdigest run`: every process of the product in one terminal, kept alive until asked to stop.

A supervisor, not a launcher: a child that exits on its own (a worker killed,
the API crashed) is started again after a back-off, and the others run on;
the scheduler's reconciler hands back whatever a dead worker held. An
embedded Redis that exits is started again on its port, with its files. SIGTERM,
SIGHUP and Ctrl+C stop everything: every child gets SIGTERM (a worker
finishes its job in hand; a second signal stops it at once), and the embedded
Redis, if this command started one, stops last.

Each child runs in a session of its own, so Ctrl+C in the terminal reaches
only this process and the children stop in that order, once; and each gets
SIGTERM from the kernel should this process die without stopping them
(SIGKILL), so nothing of ours is ever left running.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from peerdigest.config import Settings
from peerdigest.db.migrate import upgrade
from peerdigest.db.session import session_scope
from peerdigest.dev.embedded_redis import EmbeddedRedis, RedisUnavailable, resolve
from peerdigest.dev.seed import DemoSchool, DemoSchoolConflict, is_demo_database, seed_demo
from peerdigest.queue.connection import describe
from peerdigest.queue.pool import die_with_parent

log = logging.getLogger(__name__)

FIRST_RESTART_DELAY = 1.0  # seconds; doubles while a child keeps dying
MAX_RESTART_DELAY = 30.0  # and a child that ran this long is trusted again: its next restart is quick
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)
REDIS_RESTART_DELAY = 5.0  # seconds between two tries to start the embedded Redis again


@dataclass
class Child:
    name: str
    command: list[str]
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    delay: float = FIRST_RESTART_DELAY
    restart_at: float | None = None


class Supervisor:
    """Starts `peerdigest` commands as children with one Redis and database, restarts the ones that die."""

    def __init__(self, settings: Settings, redis_url: str, log_file: Path | None = None):
        self.settings = settings
        # Decided once by the command the user ran: children use this Redis and never start one.
        self.env = {
            **os.environ,
            "REDIS_URL": redis_url,
            "EMBEDDED_REDIS": "never",
            "DATABASE_URL": settings.database_url,
            "DATA_DIR": str(settings.data_dir),
        }
        self.log_file = log_file
        self.children: list[Child] = []

    def start(self, name: str, command: list[str]) -> Child:
        child = Child(name, command)
        self.children.append(child)
        self._spawn(child)
        return child

    def _spawn(self, child: Child) -> None:
        output = open(self.log_file, "ab") if self.log_file else None  # noqa: SIM115 (the child owns it)
        child.process = subprocess.Popen(
            [sys.executable, "-m", "peerdigest", *child.command], env=self.env,
            stdout=output, stderr=subprocess.STDOUT if output else None,
            start_new_session=True, preexec_fn=die_with_parent,
        )
        if output:
            output.close()
        child.started_at = time.monotonic()
        child.restart_at = None

    def watch(self) -> None:
        """Start again every child that exited on its own once its back-off has passed."""
        now = time.monotonic()
        for child in self.children:
            code = child.process.poll()
            if code is None:
                continue
            if child.restart_at is None:
                if now - child.started_at >= MAX_RESTART_DELAY:
                    child.delay = FIRST_RESTART_DELAY
                log.warning(
                    "the %s (pid %d) exited with code %d; starting it again in %.0f s",
                    child.name, child.process.pid, code, child.delay,
                )
                child.restart_at = now + child.delay
                child.delay = min(child.delay * 2, MAX_RESTART_DELAY)
            elif now >= child.restart_at:
                self._spawn(child)

    def signal_all(self, signum: int = signal.SIGTERM) -> None:
        for child in self.children:
            if child.process.poll() is None:
                child.process.send_signal(signum)

    def stop(self, timeout: float) -> None:
        """SIGTERM every child and wait for them; after `timeout` seconds kill what is left, with its children."""
        self.signal_all()
        deadline = time.monotonic() + timeout
        for child in self.children:
            try:
                child.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("the %s did not stop within %.0f s; killing it", child.name, timeout)
                _kill_tree(child.process.pid)
                child.process.wait()


def _kill_tree(pid: int) -> None:
    try:
        parent = psutil.Process(pid)
        family = [*parent.children(recursive=True), parent]
    except psutil.NoSuchProcess:
        return
    for process in family:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(family, timeout=10)


def _start_again(embedded: EmbeddedRedis) -> None:
    """Start the embedded Redis again after it exited (a crash, a kill): the same port and files, so
    every child reconnects to it by itself and its append-only file brings the queues back."""
    log.warning("the embedded Redis on port %d exited; starting it again", embedded.port)
    try:
        embedded.start()
    except RedisUnavailable as exc:
        log.warning("%s; trying again in %.0f s", exc, REDIS_RESTART_DELAY)


def prepare(settings: Settings, seed: bool | None = True) -> DemoSchool | None:
    """The data folder, the schema and, when `seed`, the demo school, before anything starts.

    `seed=None`: the demo school only in the demo's own database (`is_demo_database`); None is
    returned when it was not added. Raises DemoSchoolConflict when it cannot be added to this database.
    """
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url)
    with session_scope(settings.database_url) as session:
        if seed is None:
            seed = is_demo_database(session, settings)
        return seed_demo(session) if seed else None


def mail_links_to(settings: Settings, port: int) -> str:
    """Where a mail's links point: PUBLIC_URL when set; else the port this run serves on, since the default
    (port 8000) would send every sign-in link of a `run --port 8080` to nothing."""
    return settings.public_url if "public_url" in settings.model_fields_set else f"http://localhost:{port}"


def run_all(settings: Settings, port: int = 8000, workers: int = 1, seed: bool | None = None) -> int:
    """Serve until SIGTERM, SIGHUP or Ctrl+C; returns the exit code."""
    stop = threading.Event()
    supervisor: Supervisor | None = None

    def request_stop(signum, frame):
        if stop.is_set() and supervisor is not None:
            log.info("stopping now: running jobs are stopped and handed back by the reconciler")
            supervisor.signal_all()  # a second signal: workers stop at once (RQ's cold shutdown)
        stop.set()

    previous = {signum: signal.signal(signum, request_stop) for signum in STOP_SIGNALS}
    try:
        school = prepare(settings, seed)
        if school is None:
            log.info("no demo school added: this database is not the demo's (`peerdigest seed` adds it)")
        elif school.moved:
            log.warning("%s", school.describe_moved())
    except DemoSchoolConflict as exc:
        log.warning("%s Serving without it.", exc)
    url, embedded = resolve(settings)
    supervisor = Supervisor(settings, url)
    supervisor.env["PUBLIC_URL"] = mail_links_to(settings, port)
    try:
        supervisor.start("API", ["api", "--port", str(port)])
        supervisor.start("workers" if workers > 1 else "worker", ["worker", "--processes", str(workers)])
        supervisor.start("scheduler", ["scheduler"])
        log.info(
            "API on http://127.0.0.1:%d (docs at /docs), %d worker(s), scheduler and reconciler, Redis at %s%s. "
            "Ctrl+C stops all.", port, workers, describe(url), " (embedded)" if embedded else "",
        )
        redis_again_at = 0.0
        while not stop.wait(0.2):
            if embedded is not None and not embedded.running and time.monotonic() >= redis_again_at:
                redis_again_at = time.monotonic() + REDIS_RESTART_DELAY
                _start_again(embedded)
            supervisor.watch()
        log.info("stopping: workers finish their current job first (Ctrl+C again to stop them now)")
        # A job may take up to JOB_TIMEOUT; what is still running after that is killed.
        supervisor.stop(timeout=settings.job_timeout + 10)
    finally:
        if embedded:
            embedded.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    log.info("stopped")
    return 0
