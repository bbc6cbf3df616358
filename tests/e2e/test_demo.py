"""`peerdigest demo` (make demo): the pipeline end to end, wherever DATA_DIR points."""

import subprocess
import sys

import pytest

from tests.conftest import make_settings, settings_env

pytestmark = pytest.mark.slow


def test_demo_creates_a_missing_data_dir_and_keeps_its_database_and_worker_log_there(redis_url, tmp_path):
    data_dir = tmp_path / "not" / "there yet"
    settings = make_settings("", redis_url, data_dir)  # no DATABASE_URL: SQLite in DATA_DIR

    demo = subprocess.run(
        [sys.executable, "-m", "peerdigest", "demo"], env=settings_env(settings), cwd=tmp_path,
        capture_output=True, text=True, timeout=300,
    )

    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "All 8 summaries written" in demo.stdout
    assert (data_dir / "peerdigest.db").is_file() and (data_dir / "demo-worker.log").is_file()
