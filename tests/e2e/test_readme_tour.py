"""The README's five-minute tour, step by step, as it answers right after `make demo`."""

import pytest

from tests.conftest import run_cli
from tests.support.api import PREFIX, TEACHER, api_client

pytestmark = pytest.mark.slow


def test_the_tour_answers_as_the_readme_shows_after_the_demo(process_demo_school):
    settings = process_demo_school
    client = api_client(settings)
    # What `make demo` leaves behind: every student of evaluation 56 summarized by a worker.
    client.post(f"{PREFIX}/evaluation/56/batch-queue", headers=TEACHER)
    assert run_cli(settings, "worker", "--burst").returncode == 0

    queued = client.post(f"{PREFIX}/evaluation/56/student/19/queue", headers=TEACHER).json()
    assert (queued["status"], queued["already_queued"], queued["cached"]) == ("completed", False, True)
    again = client.post(f"{PREFIX}/evaluation/56/student/19/queue", headers=TEACHER).json()
    assert again["job_id"] == queued["job_id"]

    fresh = client.post(f"{PREFIX}/evaluation/56/student/19/regenerate", headers=TEACHER).json()
    assert (fresh["status"], fresh["cached"]) == ("queued", False)
    assert run_cli(settings, "worker", "--burst").returncode == 0
    followed = client.get(f"{PREFIX}/jobs/{fresh['job_id']}/status", headers=TEACHER).json()
    assert (followed["status"], followed["progress"], followed["result"]["generation_method"]) == ("completed", 100, "builtin")

    stored = client.get(f"{PREFIX}/evaluation/56/student/19", headers=TEACHER)
    assert stored.status_code == 200 and stored.json()["summary_text"] == followed["result"]["summary_text"]
    listed = client.get(f"{PREFIX}/evaluation/56/jobs", params={"status": "completed"}, headers=TEACHER).json()
    assert fresh["job_id"] in [job["job_id"] for job in listed["jobs"]]
