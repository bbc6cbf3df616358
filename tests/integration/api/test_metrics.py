"""GET /metrics: series a real worker's jobs produce, read back in Prometheus' own text format."""

import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from peerdigest.queue import repairs
from peerdigest.testing.fake_llm import FakeLLM, Reply
from tests.conftest import run_cli, start_cli
from tests.support.api import PREFIX, TEACHER, api_client
from tests.support.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.slow


def samples(client) -> dict:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def test_metrics_show_jobs_queues_durations_retries_and_webhooks(process_demo_school):
    llm = FakeLLM().then(Reply(status=500)).start()  # the first attempt fails: one retry
    receiver = WebhookReceiver().start()
    settings = process_demo_school.model_copy(update={"llm_base_url": llm.base_url, "llm_model": "fake-model"})
    client = api_client(settings, client=("127.0.0.1", 50000))
    job_id = client.post(
        f"{PREFIX}/evaluation/57/student/23/queue", json={"webhook_url": receiver.url}, headers=TEACHER
    ).json()["job_id"]
    client.post(f"{PREFIX}/evaluation/57/student/24/queue", json={"priority": "low"}, headers=TEACHER)

    before = samples(client)
    assert before[("peerdigest_jobs", (("status", "queued"),))] == 2
    assert before[("peerdigest_queue_depth", (("queue", "summaries-normal"),))] == 1
    assert before[("peerdigest_queue_depth", (("queue", "summaries-low"),))] == 1
    assert before[("peerdigest_job_duration_seconds_count", ())] == 0
    assert before[("peerdigest_redis_up", ())] == 1

    worker = start_cli(settings, "worker")
    try:
        deadline = time.monotonic() + 60
        while not (status := client.get(f"{PREFIX}/jobs/{job_id}/status", headers=TEACHER).json())["webhook_deliveries"]:
            assert time.monotonic() < deadline, status
            time.sleep(0.1)
        deadline = time.monotonic() + 30
        while (after := samples(client))[("peerdigest_jobs", (("status", "completed"),))] < 2:
            assert time.monotonic() < deadline, "the second job did not complete"
            time.sleep(0.1)
    finally:
        worker.terminate()
        worker.wait(30)
        llm.stop()
        receiver.stop()

    assert status["attempts"] == 2
    assert after[("peerdigest_jobs", (("status", "queued"),))] == 0
    assert after[("peerdigest_job_retries_total", ())] == 1
    assert after[("peerdigest_job_duration_seconds_count", ())] == 2
    assert after[("peerdigest_job_duration_seconds_bucket", (("le", "+Inf"),))] == 2
    assert after[("peerdigest_job_duration_seconds_sum", ())] > 0
    assert after[("peerdigest_llm_latency_seconds_count", ())] == 2, "both summaries came from the LLM"
    assert after[("peerdigest_webhook_deliveries_total", (("outcome", "delivered"),))] == 1
    assert after[("peerdigest_webhook_deliveries_total", (("outcome", "failed"),))] == 0
    assert after[("peerdigest_queue_depth", (("queue", "webhooks"),))] == 0


def test_metrics_show_what_the_reconciler_repaired_by_kind_and_its_last_pass(process_demo_school, redis):
    client = api_client(process_demo_school, client=("127.0.0.1", 50000))
    for student in (19, 20):
        client.post(f"{PREFIX}/evaluation/56/student/{student}/queue", headers=TEACHER)
    assert ("peerdigest_reconciler_last_pass_timestamp_seconds", ()) not in samples(client), "no pass has run yet"
    redis.flushdb()  # Redis forgets both jobs
    redis.lpush("rq:queue:summaries-normal", b"\xff\xfe")  # and holds an entry that is no job id

    recovered = run_cli(process_demo_school, "jobs", "recover")
    assert recovered.returncode == 0, recovered.stderr
    run_cli(process_demo_school, "jobs", "recover")  # a second pass repairs nothing

    last = repairs.last_pass(redis)
    assert (last.checked, last.repaired) == (2, 0)
    after = samples(client)
    assert after[("peerdigest_reconciler_repairs_total", (("kind", "requeued"),))] == 2
    assert after[("peerdigest_reconciler_repairs_total", (("kind", "quarantined"),))] == 1
    assert after[("peerdigest_reconciler_repairs_total", (("kind", "rerun"),))] == 0, "every kind has a series"
    assert after[("peerdigest_reconciler_last_pass_timestamp_seconds", ())] == last.at.timestamp()
    assert after[("peerdigest_quarantined_entries", ())] == 1


def test_metrics_need_the_token_when_one_is_set_and_else_a_loopback_client(demo_school):
    elsewhere = api_client(demo_school, client=("10.0.0.5", 50000))
    refused = elsewhere.get("/metrics")
    assert refused.status_code == 403 and "METRICS_TOKEN" in refused.json()["detail"]
    assert api_client(demo_school, client=("127.0.0.1", 50000)).get("/metrics").status_code == 200

    with_token = demo_school.model_copy(update={"metrics_token": "scrape-me"})
    local = api_client(with_token, client=("127.0.0.1", 50000))
    assert local.get("/metrics").status_code == 401, "with a token set, even loopback must send it"
    assert local.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    scraped = api_client(with_token, client=("10.0.0.5", 50000)).get("/metrics", headers={"Authorization": "Bearer scrape-me"})
    assert scraped.status_code == 200 and "peerdigest_jobs" in scraped.text
