"""/api/v1/scheduled-jobs: teachers keep cron schedules for their own school's evaluations."""

from datetime import datetime, timedelta, timezone

import pytest

from tests.support.api import STUDENT_19, TEACHER, api_client

SCHEDULES = "/api/v1/scheduled-jobs"
MONDAY_MORNINGS = {"name": "Monday summaries", "cron": "0 8 * * mon", "evaluation_id": 56}


@pytest.fixture
def client(demo_school):
    return api_client(demo_school)


def test_a_new_schedule_is_due_at_the_next_matching_time(client):
    before = datetime.now(timezone.utc)
    response = client.post(SCHEDULES, json=MONDAY_MORNINGS, headers=TEACHER)
    assert response.status_code == 201
    created = response.json()
    assert (created["name"], created["cron"], created["evaluation_id"]) == ("Monday summaries", "0 8 * * mon", 56)
    assert created["student_ids"] is None and created["enabled"] is True and created["last_run_at"] is None
    next_run = datetime.fromisoformat(created["next_run_at"])
    assert next_run.weekday() == 0 and (next_run.hour, next_run.minute) == (8, 0)
    assert before < next_run <= before + timedelta(days=7)

    listed = client.get(SCHEDULES, headers=TEACHER).json()
    assert listed["total"] == 1 and listed["scheduled_jobs"] == [created]
    assert client.get(f"{SCHEDULES}/{created['id']}", headers=TEACHER).json() == created


def test_a_bad_cron_expression_is_422_with_the_reason(client):
    for cron, reason in [
        ("61 * * * *", "out of range"),
        ("every monday", "five fields"),
        ("*/5 * * * * *", "five fields"),
        ("0 8 * * funday", "Invalid cron expression"),
    ]:
        response = client.post(SCHEDULES, json={**MONDAY_MORNINGS, "cron": cron}, headers=TEACHER)
        assert response.status_code == 422, cron
        assert reason in response.json()["detail"], cron
    assert client.get(SCHEDULES, headers=TEACHER).json()["total"] == 0


@pytest.mark.parametrize("cron", ["0 0 30 2 *", "0 0 31 2 *"])
def test_a_cron_expression_that_never_runs_is_422_on_create_and_on_change(client, cron):
    created = client.post(SCHEDULES, json={**MONDAY_MORNINGS, "cron": cron}, headers=TEACHER)
    assert created.status_code == 422
    assert "never runs" in created.json()["detail"]

    schedule = client.post(SCHEDULES, json=MONDAY_MORNINGS, headers=TEACHER).json()
    changed = client.patch(f"{SCHEDULES}/{schedule['id']}", json={"cron": cron}, headers=TEACHER)
    assert changed.status_code == 422
    assert "never runs" in changed.json()["detail"]


def test_a_cron_expression_that_runs_every_four_years_is_kept(client):
    created = client.post(SCHEDULES, json={**MONDAY_MORNINGS, "cron": "0 8 29 2 *"}, headers=TEACHER)
    assert created.status_code == 201
    next_run = datetime.fromisoformat(created.json()["next_run_at"])
    assert (next_run.month, next_run.day) == (2, 29)


def test_students_must_receive_feedback_in_the_evaluation(client):
    some = client.post(SCHEDULES, json={**MONDAY_MORNINGS, "student_ids": [19, 20, 19]}, headers=TEACHER)
    assert some.status_code == 201 and some.json()["student_ids"] == [19, 20]
    strangers = client.post(SCHEDULES, json={**MONDAY_MORNINGS, "student_ids": [19, 1, 999]}, headers=TEACHER)
    assert strangers.status_code == 422
    assert "1, 999" in strangers.json()["detail"]
    nobody = client.post(SCHEDULES, json={**MONDAY_MORNINGS, "student_ids": []}, headers=TEACHER)
    assert nobody.status_code == 422


def test_patch_changes_only_what_is_sent_and_disabling_clears_the_next_run(client):
    created = client.post(SCHEDULES, json=MONDAY_MORNINGS, headers=TEACHER).json()
    url = f"{SCHEDULES}/{created['id']}"

    renamed = client.patch(url, json={"name": "Weekly"}, headers=TEACHER).json()
    assert (renamed["name"], renamed["cron"], renamed["next_run_at"]) == ("Weekly", "0 8 * * mon", created["next_run_at"])

    disabled = client.patch(url, json={"enabled": False}, headers=TEACHER).json()
    assert disabled["enabled"] is False and disabled["next_run_at"] is None

    hourly = client.patch(url, json={"enabled": True, "cron": "@hourly", "student_ids": [21]}, headers=TEACHER).json()
    assert hourly["enabled"] is True and hourly["student_ids"] == [21]
    assert datetime.fromisoformat(hourly["next_run_at"]) <= datetime.now(timezone.utc) + timedelta(hours=1)

    assert client.patch(url, json={"cron": "nope"}, headers=TEACHER).status_code == 422
    assert client.patch(url, json={"name": None}, headers=TEACHER).status_code == 422
    assert client.get(url, headers=TEACHER).json()["cron"] == "@hourly", "a refused change changes nothing"


def test_delete_removes_the_schedule(client):
    created = client.post(SCHEDULES, json=MONDAY_MORNINGS, headers=TEACHER).json()
    assert client.delete(f"{SCHEDULES}/{created['id']}", headers=TEACHER).status_code == 204
    assert client.get(f"{SCHEDULES}/{created['id']}", headers=TEACHER).status_code == 404
    assert client.get(SCHEDULES, headers=TEACHER).json()["total"] == 0


def test_students_may_not_manage_schedules(client):
    assert client.post(SCHEDULES, json=MONDAY_MORNINGS, headers=STUDENT_19).status_code == 403
    assert client.get(SCHEDULES, headers=STUDENT_19).status_code == 403


def test_nothing_of_another_schools_schedules_is_visible_or_changeable(client, other_school_teacher):
    created = client.post(SCHEDULES, json=MONDAY_MORNINGS, headers=TEACHER).json()
    url = f"{SCHEDULES}/{created['id']}"
    assert client.get(SCHEDULES, headers=other_school_teacher).json()["total"] == 0
    assert client.get(url, headers=other_school_teacher).status_code == 404
    assert client.patch(url, json={"enabled": False}, headers=other_school_teacher).status_code == 404
    assert client.delete(url, headers=other_school_teacher).status_code == 404
    assert client.post(SCHEDULES, json=MONDAY_MORNINGS, headers=other_school_teacher).status_code == 404
    assert client.get(url, headers=TEACHER).json() == created


def test_the_origin_apps_path_and_cron_expression_field_still_work(client):
    legacy = "/api/v1/feedback-summaries/scheduled-jobs"
    body = {"name": "Monday summaries", "cron_expression": "0 8 * * mon", "evaluation_id": 56}
    created = client.post(legacy, json=body, headers=TEACHER)
    assert created.status_code == 201, created.text
    assert created.json()["cron_expression"] == created.json()["cron"] == "0 8 * * mon"
    changed = client.patch(f"{legacy}/{created.json()['id']}", json={"cron_expression": "0 9 * * tue"}, headers=TEACHER)
    assert changed.json()["cron"] == "0 9 * * tue"
    assert client.get(SCHEDULES, headers=TEACHER).json()["scheduled_jobs"] == client.get(legacy, headers=TEACHER).json()["scheduled_jobs"]
    assert client.delete(f"{legacy}/{created.json()['id']}", headers=TEACHER).status_code == 204


def test_which_error_comes_first_an_invalid_request_then_a_student_then_a_missing_schedule(client):
    for method, body in (("GET", None), ("PATCH", {"enabled": False}), ("DELETE", None)):
        invalid_id = client.request(method, f"{SCHEDULES}/0", json=body, headers=STUDENT_19)
        missing = client.request(method, f"{SCHEDULES}/999", json=body, headers=STUDENT_19)
        assert (invalid_id.status_code, missing.status_code) == (422, 403), method
        assert client.request(method, f"{SCHEDULES}/999", json=body, headers=TEACHER).status_code == 404, method
    assert client.post(SCHEDULES, json={"name": ""}, headers=STUDENT_19).status_code == 422
    assert client.post(SCHEDULES, json=MONDAY_MORNINGS, headers=STUDENT_19).status_code == 403
    assert client.patch(f"{SCHEDULES}/999", json={"enabled": "often"}, headers=STUDENT_19).status_code == 422
    assert client.get(SCHEDULES, headers=STUDENT_19).status_code == 403
