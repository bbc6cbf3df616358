"""`make bench` at its smallest size, so the harness cannot rot: it runs every scenario and writes its JSON.

Nothing here is judged on time: the numbers belong to `make bench` on a quiet machine.
"""

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def test_every_scenario_runs_and_the_results_are_written(tmp_path):
    done = subprocess.run(
        [sys.executable, "bench/run.py", "--smoke", "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    [written] = tmp_path.glob("*-smoke.json")
    run = json.loads(written.read_text())
    assert run["size"] == "smoke" and run["commit"] and run["machine"]
    assert run["saturation"] > 0
    assert sorted(run["scenarios"]) == [
        "1 pipeline overhead", "2 llm saturation", "3 a class", "4 big evaluation", "5 api postgresql", "5 api sqlite",
        "6 backpressure", "7 llm calls per summary",
    ]
    assert run["scenarios"]["6 backpressure"]["measures"]["statuses"].get("failed", 0) == 0
