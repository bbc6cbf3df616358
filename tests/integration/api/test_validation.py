"""Bad input is a 4xx with the reason, never a 500: ids beyond the database's range, NUL, oversized bodies."""

import pytest

from tests.support.api import PREFIX, STUDENT_19, TEACHER, api_client

SCHEDULES = "/api/v1/scheduled-jobs"


@pytest.fixture
def client(demo_school):
    return api_client(demo_school)


@pytest.mark.parametrize("evaluation_id", [2**31, 2**63, 10**30, 0, -1])
def test_an_id_outside_the_databases_range_is_422(client, evaluation_id):
    for method, path in [
        ("GET", f"{PREFIX}/evaluation/{evaluation_id}/jobs"),
        ("GET", f"{PREFIX}/evaluation/56/student/{evaluation_id}"),
        ("POST", f"{PREFIX}/evaluation/{evaluation_id}/student/19/queue"),
        ("GET", f"/api/v1/evaluations/{evaluation_id}"),
        ("DELETE", f"{SCHEDULES}/{evaluation_id}"),
    ]:
        response = client.request(method, path, headers=TEACHER)
        assert response.status_code == 422, path
        assert "in the URL" in response.json()["detail"], path


def test_the_largest_id_is_merely_unknown(client):
    assert client.get(f"{PREFIX}/evaluation/{2**31 - 1}/jobs", headers=TEACHER).status_code == 404


def test_ids_in_bodies_are_bounded_too(client):
    schedule = client.post(SCHEDULES, json={"name": "n", "cron": "@daily", "evaluation_id": 2**31}, headers=TEACHER)
    assert schedule.status_code == 422
    batch = client.post(f"{PREFIX}/evaluation/56/batch-queue", json={"student_ids": [19, 2**63]}, headers=TEACHER)
    assert batch.status_code == 422


def test_a_job_id_with_a_nul_byte_is_422_also_for_students(client):
    for headers in (TEACHER, STUDENT_19):
        response = client.get(f"{PREFIX}/jobs/summary-56-19%00x/status", headers=headers)
        assert response.status_code == 422
        assert "job_id" in response.json()["detail"]


@pytest.mark.parametrize(
    "path, body",
    [
        ("/api/v1/evaluations", {"title": "Projectweek\x00", "criteria": [{"name": "Inzet"}]}),
        ("/api/v1/evaluations", {"title": "Projectweek", "criteria": [{"name": "In\x00zet"}]}),
        ("/api/v1/evaluations", {"title": "P", "criteria": [{"name": "Inzet"}], "teams": {"A\x00": ["jan@example.com"]}}),
        (SCHEDULES, {"name": "nightly\x00", "cron": "@daily", "evaluation_id": 56}),
        (SCHEDULES, {"name": "nightly", "cron": "@daily\x00", "evaluation_id": 56}),
    ],
)
def test_text_with_a_nul_character_is_422_naming_the_field(client, path, body):
    response = client.post(path, json=body, headers=TEACHER)
    assert response.status_code == 422
    assert "NUL" in response.json()["detail"]


def test_text_longer_than_its_column_is_422(client):
    too_long = client.post(
        "/api/v1/evaluations", json={"title": "x" * 301, "criteria": [{"name": "Inzet"}]}, headers=TEACHER
    )
    assert too_long.status_code == 422
    assert "title" in too_long.json()["detail"]


def test_a_422_echoes_only_a_short_prefix_of_the_bad_value(client):
    huge = "x" * 500_000
    response = client.post(f"{PREFIX}/evaluation/56/student/19/queue", json={"priority": huge}, headers=TEACHER)
    assert response.status_code == 422
    assert len(response.content) < 2_000
    assert "xxxxxxxxxx…" in response.json()["detail"]


def test_a_json_body_over_the_limit_is_413_before_it_is_read(demo_school):
    client = api_client(demo_school.model_copy(update={"request_max_bytes": 4096}))
    body = {"name": "n" * 5000, "cron": "@daily", "evaluation_id": 56}
    response = client.post(SCHEDULES, json=body, headers=TEACHER)
    assert response.status_code == 413
    assert "4096 bytes" in response.json()["detail"]


def test_a_body_sent_in_chunks_is_counted_as_it_arrives(demo_school):
    client = api_client(demo_school.model_copy(update={"request_max_bytes": 4096}))
    chunks = (b'{"name": "' + b"n" * 1000 + b'"' if i == 0 else b" " * 1000 for i in range(6))
    response = client.post(
        SCHEDULES, content=chunks, headers={**TEACHER, "Content-Type": "application/json"}
    )
    assert response.status_code == 413
