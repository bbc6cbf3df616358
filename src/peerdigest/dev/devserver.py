"""`peerdigest run`: every process of the product in one terminal, stopped together by Ctrl+C."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from peerdigest.config import Settings
from peerdigest.db.migrate import upgrade
from peerdigest.db.session import session_scope
from peerdigest.dev.embedded_redis import resolve
from peerdigest.dev.seed import seed_demo

log = logging.getLogger(__name__)


def spawn(command: list[str], redis_url: str, settings: Settings, log_file: Path | None = None) -> subprocess.Popen:
    """Start `peerdigest <command>` as a child with the same settings and the chosen Redis."""
    env = {**os.environ, "REDIS_URL": redis_url, "DATABASE_URL": settings.database_url}
    output = open(log_file, "ab") if log_file else None  # noqa: SIM115 (the child owns it)
    return subprocess.Popen(
        [sys.executable, "-m", "peerdigest", *command], env=env, stdout=output, stderr=subprocess.STDOUT if output else None
    )


def stop_all(children: list[subprocess.Popen], timeout: float = 30) -> None:
    """SIGTERM every child (a worker finishes its job first), then wait; kill what hangs."""
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for child in children:
        try:
            child.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def prepare(settings: Settings) -> None:
    upgrade(settings.database_url)
    with session_scope(settings.database_url) as session:
        seed_demo(session)


def run_all(settings: Settings, port: int = 8000, workers: int = 1) -> int:
    prepare(settings)
    url, embedded = resolve(settings, allow_embedded=True)
    children = [spawn(["api", "--port", str(port)], url, settings)]
    children += [spawn(["worker"], url, settings) for _ in range(workers)]
    log.info("API on http://127.0.0.1:%d (docs at /docs), %d worker(s), Redis at %s. Ctrl+C stops all.", port, workers, url)
    code = 0
    try:
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        code = 1
        log.error("a process exited on its own; stopping the others")
    except KeyboardInterrupt:
        log.info("stopping: workers finish their current job first")
    finally:
        stop_all(children)
        if embedded:
            embedded.stop()
    return code
