"""Two test runs on one machine (two checkouts, a developer's and CI's) at the same time do not break each other.

Each pytest session starts its own embedded Redis on a free port and creates its
own PostgreSQL database (tests/conftest.py); this runs two sessions of a subset,
side by side, and both must pass. The subset holds what two suites could trip
over each other on:

- queueing through Redis on SQLite and PostgreSQL (`test_enqueue`: both
  databases, so a session must not find PostgreSQL skipped);
- a browser-free end-to-end run with a real worker process (`test_pipeline`);
- a fault scenario that kills and restarts its own Redis on the same port, with
  its append-only file (`test_redis_loss`);
- the benchmark harness at its smallest size, which writes its results only under
  the directory it is given (`test_bench`), never into the checkout.

Not two full suites: this check is itself part of `make test`, and two more full
suites inside it would about triple the run that CI must finish within its time
budget (90 minutes, on two cores); the subset holds what the two could collide on.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SUBSET = [
    "tests/integration/queue/test_enqueue.py",
    "tests/e2e/test_pipeline.py::test_a_real_worker_takes_a_queued_job_to_completed",
    "tests/faults/test_redis_loss.py::test_redis_restarts_mid_job_with_the_llm_answered",
    "tests/e2e/test_bench.py",
]


def test_two_sessions_of_the_suite_at_the_same_time_both_pass(tmp_path):
    # Nothing of this session's own services is handed down: each child finds its own, as a second run would.
    env = {k: v for k, v in os.environ.items() if k not in ("TEST_REDIS_URL", "PYTEST_ADDOPTS")}
    sessions = [
        subprocess.Popen(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--basetemp", str(tmp_path / f"run-{n}"),
             *SUBSET],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        for n in (1, 2)
    ]
    outputs = [session.communicate(timeout=600)[0] for session in sessions]
    for session, output in zip(sessions, outputs, strict=True):
        assert session.returncode == 0, output
        assert " passed" in output and "skipped" not in output, output
