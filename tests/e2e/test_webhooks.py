"""Webhooks through the real pipeline: API, a worker process, Redis, a local receiver."""

import hashlib
import hmac
import json
import time

import pytest

from peerdigest.db.models import User
from peerdigest.db.session import session_scope
from tests.conftest import start_cli
from tests.support.api import PREFIX, TEACHER, api_client
from tests.support.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.slow


@pytest.fixture
def receiver():
    started = WebhookReceiver().start()
    yield started
    started.stop()


@pytest.fixture
def worker(process_demo_school):
    """A long-running worker: retries wait in RQ's scheduled registry, which only a running worker empties."""
    process = start_cli(process_demo_school, "worker")
    yield process
    process.terminate()
    process.wait(30)


def _status_when(client, job_id, done, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        status = client.get(f"{PREFIX}/jobs/{job_id}/status", headers=TEACHER).json()
        if done(status):
            return status
        assert time.monotonic() < deadline, f"gave up waiting; last status: {status}"
        time.sleep(0.1)


def _signed_correctly(request, secret):
    expected = "sha256=" + hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(request.headers["x-peerdigest-signature"], expected)


def test_signed_webhooks_for_completed_and_failed_jobs_and_a_retry_after_a_500(process_demo_school, receiver, worker):
    receiver.then(500)  # the first delivery fails once, then every answer is 200
    client = api_client(process_demo_school)
    options = {"webhook_url": receiver.url}
    completing = client.post(f"{PREFIX}/evaluation/56/student/19/queue", json=options, headers=TEACHER).json()["job_id"]
    failing = client.post(f"{PREFIX}/evaluation/57/student/23/queue", json=options, headers=TEACHER).json()["job_id"]
    with session_scope(process_demo_school.database_url) as session:
        session.delete(session.get(User, 23))  # a permanent failure: the job fails without retries

    completed = _status_when(client, completing, lambda s: len(s["webhook_deliveries"]) == 2)
    failed = _status_when(client, failing, lambda s: len(s["webhook_deliveries"]) == 1)

    assert [(d["attempt"], d["status_code"], d["error"]) for d in completed["webhook_deliveries"]] == [
        (1, 500, "HTTP 500"),
        (2, 200, None),
    ]
    assert len({d["delivery_id"] for d in completed["webhook_deliveries"]}) == 1, "a retry is the same delivery"
    assert [(d["status_code"], d["event"]) for d in failed["webhook_deliveries"]] == [(200, "job.failed")]

    assert [r.answered for r in receiver.received] == [500, 200, 200]
    assert all(_signed_correctly(r, "test-webhook-secret") for r in receiver.received)
    first_try, retry = [r for r in receiver.received if json.loads(r.body)["data"]["job_id"] == completing]
    assert retry.body == first_try.body, "every attempt sends the same signed bytes"
    assert retry.headers["x-peerdigest-delivery"] == completed["webhook_deliveries"][0]["delivery_id"]

    on_completion = json.loads(retry.body)
    assert on_completion["event"] == "job.completed"
    assert on_completion["timestamp"] == completed["completed_at"].replace("Z", "+00:00")
    assert on_completion["data"]["status"] == "completed"
    assert (on_completion["data"]["evaluation_id"], on_completion["data"]["student_id"]) == (56, 19)
    assert on_completion["data"]["result"]["summary_text"] == completed["result"]["summary_text"]

    (on_failure,) = [json.loads(r.body) for r in receiver.received if json.loads(r.body)["data"]["job_id"] == failing]
    assert on_failure["event"] == "job.failed"
    assert on_failure["data"]["status"] == "failed"
    assert "student 23 does not take part in evaluation 57" in on_failure["data"]["error"]
    assert "result" not in on_failure["data"]
