"""`peerdigest jobs list|show|cancel|retry` as real processes on the database of record."""

import json

import pytest
from sqlalchemy import select

from peerdigest.db.models import SummaryJob
from peerdigest.db.session import session_scope
from tests.conftest import run_cli
from tests.support.api import PREFIX, TEACHER, api_client

pytestmark = pytest.mark.slow


def test_list_cancel_retry_and_show_a_job_from_the_command_line(process_demo_school):
    client = api_client(process_demo_school)
    first = client.post(f"{PREFIX}/evaluation/56/student/19/queue", json={"priority": "high"}, headers=TEACHER).json()
    other = client.post(f"{PREFIX}/evaluation/57/student/20/queue", headers=TEACHER).json()

    listed = run_cli(process_demo_school, "jobs", "list", "--evaluation", "56", "--status", "queued")
    assert listed.returncode == 0, listed.stderr
    assert first["job_id"] in listed.stdout and other["job_id"] not in listed.stdout

    cancelled = run_cli(process_demo_school, "jobs", "cancel", first["job_id"])
    assert cancelled.returncode == 0, cancelled.stderr

    retried = run_cli(process_demo_school, "jobs", "retry", first["job_id"])
    assert retried.returncode == 0, retried.stderr
    with session_scope(process_demo_school.database_url) as session:
        new = session.scalar(select(SummaryJob).where(SummaryJob.student_id == 19, SummaryJob.status == "queued"))
    assert new.job_id != first["job_id"] and new.job_id in retried.stdout
    assert (new.evaluation_id, new.priority) == (56, "high")

    shown = run_cli(process_demo_school, "jobs", "show", new.job_id)
    assert shown.returncode == 0 and "queued" in shown.stdout and "high" in shown.stdout

    still_open = run_cli(process_demo_school, "jobs", "retry", other["job_id"])
    assert still_open.returncode == 1
    assert "only failed or cancelled jobs can be retried" in " ".join(still_open.stderr.split())


def test_jobs_list_as_json_and_whole_in_a_pipe(process_demo_school):
    client = api_client(process_demo_school)
    queued = client.post(f"{PREFIX}/evaluation/56/student/19/queue", headers=TEACHER).json()
    with session_scope(process_demo_school.database_url) as session:
        job = session.scalar(select(SummaryJob).where(SummaryJob.job_id == queued["job_id"]))
        job.error_message = "a long reason " * 20

    as_json = run_cli(process_demo_school, "jobs", "list", "--json")
    assert as_json.returncode == 0, as_json.stderr
    (listed,) = json.loads(as_json.stdout)
    assert (listed["job_id"], listed["status"], listed["evaluation_id"], listed["student_id"]) == (
        queued["job_id"], "queued", 56, 19
    )
    assert listed["error"] == "a long reason " * 20 and listed["updated_at"]

    piped = run_cli(process_demo_school, "jobs", "list")  # run_cli's stdout is a pipe
    header, line = piped.stdout.splitlines()
    assert header.split("\t") == ["job", "status", "priority", "attempts", "created", "error"]
    assert line.split("\t")[0] == queued["job_id"]
    assert line.split("\t")[-1] == ("a long reason " * 20).strip(), "nothing is cut off in a pipe"
