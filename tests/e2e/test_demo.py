"""`peerdigest demo` (make demo): the pipeline end to end, wherever DATA_DIR points."""

import subprocess
import sys

import psutil
import pytest

from tests.conftest import make_settings, settings_env

pytestmark = pytest.mark.slow


def redis_servers_in(directory):
    """redis-server processes working in `directory` (an embedded Redis runs in its --dir)."""
    found = []
    for process in psutil.process_iter(["name", "cwd"]):
        if (process.info["name"] or "").startswith("redis-server") and (process.info["cwd"] or "").startswith(str(directory)):
            found.append(process)
    return found


def test_demo_creates_a_missing_data_dir_keeps_everything_there_and_leaves_no_redis_running(redis_url, tmp_path):
    data_dir = tmp_path / "not" / "there yet"
    # No DATABASE_URL: SQLite in DATA_DIR; EMBEDDED_REDIS=always: a Redis of its own, under DATA_DIR too.
    settings = make_settings("", redis_url, data_dir, embedded_redis="always")

    demo = subprocess.run(
        [sys.executable, "-m", "peerdigest", "demo"], env=settings_env(settings), cwd=tmp_path,
        capture_output=True, text=True, timeout=300,
    )

    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "All 8 summaries written" in demo.stdout
    assert "(embedded, started for this demo)" in demo.stdout
    assert (data_dir / "peerdigest.db").is_file() and (data_dir / "demo-worker.log").is_file()
    assert (data_dir / "redis").is_dir()
    assert not redis_servers_in(data_dir), "the demo's embedded Redis stopped with it"
