"""Rate limits per user (per address when not signed in), counted in the test's Redis."""

import time

from limits import parse

from peerdigest.config import Settings
from peerdigest.dev.embedded_redis import free_port
from tests.support.api import PREFIX, TEACHER, api_client

ADMIN = {"X-User-Email": "admin@example.com"}
QUEUE = f"{PREFIX}/evaluation/56/student/19/queue"


def limited(settings, **limits):
    return api_client(settings.model_copy(update={"rate_limit_enabled": True, **limits}))


def test_the_eleventh_queue_request_in_a_minute_is_429_with_retry_after(demo_school):
    client = limited(demo_school)
    answers = [client.post(QUEUE, headers=TEACHER) for _ in range(10)]
    assert [a.status_code for a in answers] == [202] * 10
    assert [a.headers["X-RateLimit-Limit"] for a in answers] == ["10"] * 10
    assert [int(a.headers["X-RateLimit-Remaining"]) for a in answers] == list(range(9, -1, -1))
    assert time.time() < int(answers[0].headers["X-RateLimit-Reset"]) <= time.time() + 61

    refused = client.post(QUEUE, headers=TEACHER)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert "Too many requests" in refused.json()["detail"]

    other_kind = client.get("/api/v1/evaluations", headers=TEACHER)
    assert other_kind.status_code == 200 and other_kind.headers["X-RateLimit-Limit"] == "100"
    other_user = client.post(QUEUE, headers=ADMIN)
    assert other_user.status_code == 202 and other_user.headers["X-RateLimit-Remaining"] == "9"


def test_batches_have_their_own_configurable_limit_and_errors_carry_the_headers(demo_school):
    client = limited(demo_school, rate_limit_batch="2/minute")
    batch = f"{PREFIX}/evaluation/56/batch-queue"
    assert [client.post(batch, json={"student_ids": [20]}, headers=TEACHER).status_code for _ in range(3)] == [202, 202, 429]
    missing = client.get("/api/v1/evaluations/99999", headers=TEACHER)
    assert missing.status_code == 404 and missing.headers["X-RateLimit-Remaining"] == "99"


def test_requests_without_a_user_are_counted_per_address(demo_school):
    client = limited(demo_school, rate_limit_default="2/minute")
    anonymous = [client.get("/api/v1/evaluations").status_code for _ in range(3)]
    assert anonymous == [401, 401, 429]
    assert client.get("/api/v1/evaluations", headers=TEACHER).status_code == 200, "a user has a count of their own"


def test_requests_go_through_unlimited_when_the_counters_redis_is_away(demo_school):
    client = limited(demo_school, rate_limit_queue="1/minute", rate_limit_storage_url=f"redis://127.0.0.1:{free_port()}")
    answers = [client.post(QUEUE, headers=TEACHER) for _ in range(2)]
    assert [a.status_code for a in answers] == [202, 202]
    assert "X-RateLimit-Limit" not in answers[0].headers


def test_following_jobs_has_its_own_bucket_and_never_starves_other_calls(demo_school):
    client = limited(demo_school, rate_limit_status="4/minute", rate_limit_default="3/minute")
    job_id = client.post(QUEUE, headers=TEACHER).json()["job_id"]
    reads = [
        client.get(f"{PREFIX}/jobs/{job_id}/status", headers=TEACHER),
        client.get(f"{PREFIX}/evaluation/56/jobs", headers=TEACHER),
        client.get(f"{PREFIX}/evaluation/56/jobs", params={"since": "2030-01-01T00:00:00Z"}, headers=TEACHER),
        client.get(f"{PREFIX}/jobs/{job_id}/status", headers=TEACHER),
    ]
    assert [r.status_code for r in reads] == [200] * 4
    assert reads[0].headers["X-RateLimit-Limit"] == "4"
    assert client.get(f"{PREFIX}/jobs/{job_id}/status", headers=TEACHER).status_code == 429
    other = client.get("/api/v1/evaluations", headers=TEACHER)
    assert other.status_code == 200 and other.headers["X-RateLimit-Remaining"] == "2", "polling used none of it"


def test_the_default_status_bucket_holds_a_page_polling_30_jobs_every_2_seconds():
    per_minute = parse(Settings(_env_file=None).rate_limit_status)
    assert per_minute.get_expiry() == 60 and per_minute.amount >= 30 * (60 // 2)


def test_health_checks_are_never_rate_limited(demo_school):
    """A load balancer asks anonymously from one address: an anonymous client there must not fail its checks."""
    client = limited(demo_school, rate_limit_default="2/minute")
    for _ in range(3):
        client.get("/api/v1/evaluations")  # the same anonymous address uses up the default bucket
    assert client.get("/api/v1/evaluations").status_code == 429
    for path in ("/healthz", "/api/v1/queue/health", "/api/v1/feedback-summaries/queue/health"):
        answers = [client.get(path) for _ in range(5)]  # the queue's health is 503 here: no worker runs
        assert all(a.status_code in (200, 503) and "X-RateLimit-Limit" not in a.headers for a in answers), path


def test_health_checks_sign_no_one_in(demo_school, tmp_path):
    """A load balancer's check answers from the API alone: with the database out of reach, a request that
    carries a user's credential still hears the API is up (signing in would have needed the database)."""
    away = demo_school.model_copy(update={"database_url": f"sqlite:///{tmp_path}/no-such-dir/peerdigest.db"})
    client = limited(away)
    assert client.get("/api/v1/evaluations", headers=TEACHER).status_code == 503, "signing in needs the database"
    assert client.get("/healthz", headers=TEACHER).status_code == 200
    for path in ("/api/v1/queue/health", "/api/v1/feedback-summaries/queue/health"):
        answer = client.get(path, headers=TEACHER)
        assert answer.json()["redis_reachable"] is True, path  # 503 only because no worker runs here
