"""`peerdigest worker --processes N`: N workers under one supervisor that replaces the dead and stops them all."""

import signal
import time

import psutil
import pytest

from peerdigest.queue.maintenance import workers
from tests.conftest import run_cli, start_cli

pytestmark = pytest.mark.slow


def wait_for(condition, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.1)


def live_pids(redis) -> set[int]:
    return {w["pid"] for w in workers(redis) if psutil.pid_exists(w["pid"])}


def test_a_pool_replaces_a_killed_worker_reports_memory_and_stops_all_on_sigterm(process_demo_school, redis, tmp_path):
    log = tmp_path / "pool.log"
    pool = start_cli(process_demo_school, "worker", "--processes", "2", stderr=log.open("w"))
    wait_for(lambda: len(live_pids(redis)) == 2, "two workers to register")
    assert log.read_text().count("MiB its own") == 3, "the pool and each worker log their memory at start"

    # The worker whose RQ scheduler runs (one of the two holds the queues' locks): killed with SIGKILL,
    # it takes its scheduler with it instead of leaving it to run on, stopped by no one.
    wait_for(lambda: any(psutil.Process(pid).children() for pid in live_pids(redis)), "an RQ scheduler to start")
    first = next(pid for pid in live_pids(redis) if psutil.Process(pid).children())
    its_children = psutil.Process(first).children(recursive=True)
    psutil.Process(first).kill()
    wait_for(lambda: len(live_pids(redis)) == 2 and first not in live_pids(redis), "the pool to replace the worker")
    _, orphans = psutil.wait_procs(its_children, timeout=30)
    assert not orphans, f"left running by the killed worker: {orphans}"

    stats = run_cli(process_demo_school, "queues", "stats")
    assert stats.returncode == 0, stats.stderr
    assert " MiB (" in stats.stdout, "each worker's memory is shown"

    family = psutil.Process(pool.pid).children(recursive=True)
    pool.send_signal(signal.SIGTERM)
    assert pool.wait(60) == 0
    _, alive = psutil.wait_procs(family, timeout=30)
    assert not alive, f"left running: {alive}"
    assert "Traceback" not in log.read_text()


def test_name_and_several_processes_do_not_go_together(process_settings):
    refused = run_cli(process_settings, "worker", "--processes", "2", "--name", "w1")
    assert refused.returncode == 2
    assert "--name names one worker" in refused.stderr
