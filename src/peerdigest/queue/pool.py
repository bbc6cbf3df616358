"""N workers under one supervisor: `peerdigest worker --processes N`.

RQ's `WorkerPool` forks the workers, starts a new one when one dies, and on
SIGINT/SIGTERM asks each for a warm shutdown and waits for them all. What it
lacks for us, added here:

- Its workers run a plain `Worker.work()`. Ours run `queue.worker.run`: the
  reconnect loop, `SummaryQueue` and the job heartbeat interval.
- It stops workers with SIGINT. Between two runs of RQ's worker (while Redis is
  away) our loop listens for SIGTERM only, so the pool sends SIGTERM.
- A worker forked after the pool installed its signal handlers inherits them:
  a signal reaching it before RQ's own handlers are in place would make it
  signal its siblings. Each worker starts from the default handlers.
- A pool killed with SIGKILL cannot stop its workers; they would work on as
  orphans (and a restarted pool would double them). Likewise RQ's worker,
  killed so, leaves its work horse and its scheduler process running: the horse
  may finish a job the reconciler has already handed back, and the scheduler is
  stopped by no one. Every process forked here asks the kernel for a SIGTERM
  when its parent dies (`children_die_with_parent`).
- It says nothing about memory: each worker logs its own at start.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import sys

import psutil
from rq.worker_pool import ForkProcess, WorkerData, WorkerPool

from peerdigest.config import Settings
from peerdigest.queue.connection import connect
from peerdigest.queue.worker import SummaryQueue, SummaryWorker, run

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def die_with_parent(signum: int = signal.SIGTERM) -> None:
    """Have Linux send `signum` to this process when its parent dies; nothing elsewhere.

    Meant to run first in a child (or as Popen's `preexec_fn`): a supervisor
    killed with SIGKILL gets no chance to stop its children itself.
    """
    if not sys.platform.startswith("linux"):
        return
    parent = os.getppid()
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signum)
    if os.getppid() != parent:  # the parent died before the request was in place
        os.kill(os.getpid(), signum)


def children_die_with_parent() -> None:
    """From now on every process forked from this one, and from those, dies with its parent.

    A worker gets SIGTERM (a warm shutdown), a work horse SIGTERM (RQ leaves it
    the default action: it ends), the RQ scheduler SIGTERM (it releases its locks).
    """
    os.register_at_fork(after_in_child=die_with_parent)


def memory(pid: int | None = None) -> str:
    """A process's resident memory, and the part of it no other process shares (what one more worker costs)."""
    info = psutil.Process(pid).memory_full_info()
    return f"{info.rss / 2**20:.0f} MiB resident, {info.uss / 2**20:.0f} MiB its own"


class SummaryWorkerPool(WorkerPool):
    def __init__(self, redis_url: str, settings: Settings, processes: int):
        # Each worker builds its queues itself (`queue.worker.build_worker`); the pool needs no names.
        super().__init__(
            [], connection=connect(redis_url), num_workers=processes,
            worker_class=SummaryWorker, queue_class=SummaryQueue,
        )
        self.redis_url = redis_url
        self.settings = settings

    def get_worker_process(self, name: str, burst: bool, _sleep: float = 0, logging_level: str = "INFO"):
        return ForkProcess(target=_work, args=(self.redis_url, self.settings, name, burst), name=f"peerdigest worker {name}")

    def stop_worker(self, worker_data: WorkerData, sig=signal.SIGTERM):
        super().stop_worker(worker_data, sig)


def _work(redis_url: str, settings: Settings, name: str, burst: bool) -> None:
    """One worker of the pool, in its forked process."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    log.info("worker %s (pid %d) started: %s", name, os.getpid(), memory())
    # A connection of its own: a socket inherited through fork would be shared with the pool.
    sys.exit(run(connect(redis_url), settings, burst=burst, name=name))


def run_pool(redis_url: str, settings: Settings, processes: int, burst: bool = False) -> int:
    """Run `processes` workers until SIGTERM/SIGINT (or, in burst mode, until the queues are empty)."""
    children_die_with_parent()
    pool = SummaryWorkerPool(redis_url, settings, processes)
    log.info("worker pool (pid %d) starting %d workers: %s", os.getpid(), processes, memory())
    pool.start(burst=burst, logging_level="INFO")
    return 0
