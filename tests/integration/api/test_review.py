"""Review before release: students read a summary only once a teacher approved it, as written or edited."""

import pytest

from peerdigest.db.session import session_scope
from peerdigest.domain import review
from peerdigest.domain.summaries import store as store_as_worker  # how a worker writes a new summary
from peerdigest.summarize import Summary
from tests.support.api import PREFIX, STUDENT_19, TEACHER, api_client
from tests.support.feedback import add_comment, store_summary

SANNE = {"X-User-Email": "sanne@example.com"}
THREAT = "Ik maak je af als je weer te laat bent."


@pytest.fixture
def client(demo_school):
    with session_scope(demo_school.database_url) as session:
        store_summary(session, 56, 19, summary_text="Jan werkt goed samen.")
        store_summary(session, 56, 20, summary_text="Sanne communiceert helder.")
    return api_client(demo_school)


def summary(client, student: int, headers=TEACHER):
    return client.get(f"{PREFIX}/evaluation/56/student/{student}", headers=headers)


def approve(client, student: int, body=None, headers=TEACHER):
    return client.post(f"{PREFIX}/evaluation/56/student/{student}/approve", json=body, headers=headers)


def test_new_evaluations_are_reviewed_before_release_unless_the_teacher_says_otherwise(client):
    body = {"title": "Sprint 1", "criteria": [{"name": "Inzet"}]}
    assert client.post("/api/v1/evaluations", json=body, headers=TEACHER).json()["release"] == "after_review"
    changed = client.patch("/api/v1/evaluations/56", json={"release": "automatic"}, headers=TEACHER)
    assert changed.json()["release"] == "automatic"
    assert client.patch("/api/v1/evaluations/56", json={"release": "sometimes"}, headers=TEACHER).status_code == 422


def test_a_student_sees_nothing_before_approval_and_their_summary_after(client):
    hidden = summary(client, 19, STUDENT_19)
    assert hidden.status_code == 404 and "not been released" in hidden.json()["detail"]
    assert summary(client, 19).json()["released"] is False  # the teacher reads it all the same

    approved = approve(client, 19).json()
    assert (approved["released"], approved["approved_by"], approved["edited"]) == (True, 1, False)
    assert approved["approved_at"] is not None
    mine = summary(client, 19, STUDENT_19).json()
    assert (mine["summary_text"], mine["released"]) == ("Jan werkt goed samen.", True)
    assert summary(client, 20, STUDENT_19).status_code == 403  # never another student's, approved or not
    assert summary(client, 20, SANNE).status_code == 404  # Sanne's own is not approved yet


def test_an_edit_replaces_the_text_and_records_who_and_when(client):
    edited = approve(client, 19, {"summary_text": "  Jan werkt goed samen en plant netjes.  "}).json()
    assert edited["summary_text"] == "Jan werkt goed samen en plant netjes."
    assert (edited["edited"], edited["edited_by"], edited["approved_by"]) == (True, 1, 1)
    assert edited["edited_at"] is not None
    assert summary(client, 19, STUDENT_19).json()["summary_text"] == "Jan werkt goed samen en plant netjes."


@pytest.mark.parametrize(
    ("text", "detail"),
    [("   ", "The summary text is empty"), ("x" * (review.MAX_TEXT + 1), "at most 5000 characters")],
)
def test_an_empty_or_overlong_edit_is_refused_in_words(client, text, detail):
    refused = approve(client, 19, {"summary_text": text})
    assert refused.status_code == 422 and detail in refused.json()["detail"]
    assert summary(client, 19).json()["released"] is False
    assert summary(client, 19).json()["released"] is False


def test_approve_all_releases_every_written_summary_once(client):
    first = client.post(f"{PREFIX}/evaluation/56/approve-all", headers=TEACHER).json()
    assert (first["approved"], first["student_ids"]) == (2, [19, 20])
    assert client.post(f"{PREFIX}/evaluation/56/approve-all", headers=TEACHER).json()["approved"] == 0
    assert summary(client, 20, SANNE).json()["released"] is True


def test_only_teachers_of_the_school_approve(client, other_school_teacher):
    assert approve(client, 19, headers=STUDENT_19).status_code == 403
    assert client.post(f"{PREFIX}/evaluation/56/approve-all", headers=STUDENT_19).status_code == 403
    assert approve(client, 19, headers=other_school_teacher).status_code == 404
    assert approve(client, 21).status_code == 404  # no summary written yet
    assert summary(client, 19, STUDENT_19).status_code == 404


def test_a_regenerated_summary_needs_approval_again(client, demo_school):
    approve(client, 19, {"summary_text": "Goedgekeurd."})
    with session_scope(demo_school.database_url) as session:
        store_as_worker(session, 56, 19, Summary(summary_text="Nieuw geschreven.", generation_method="builtin"), "hash", 3)
    again = summary(client, 19).json()
    assert (again["summary_text"], again["released"], again["approved_at"], again["edited"]) == (
        "Nieuw geschreven.", False, None, False
    )
    assert summary(client, 19, STUDENT_19).status_code == 404


def test_automatic_release_shows_a_summary_as_soon_as_it_is_written(client):
    client.patch("/api/v1/evaluations/56", json={"release": "automatic"}, headers=TEACHER)
    shown = summary(client, 19, STUDENT_19).json()
    assert (shown["released"], shown["approved_by"]) == (True, None)


def test_a_students_job_shows_no_result_before_release_and_the_released_text_after(client):
    job_id = client.post(f"{PREFIX}/evaluation/56/student/19/queue", headers=STUDENT_19).json()["job_id"]
    # Unchanged feedback: the job completed at once from the stored summary.
    assert client.get(f"{PREFIX}/jobs/{job_id}/status", headers=TEACHER).json()["result"]["summary_text"] == (
        "Jan werkt goed samen."
    )
    assert client.get(f"{PREFIX}/jobs/{job_id}/status", headers=STUDENT_19).json()["result"] is None
    assert client.get(f"{PREFIX}/evaluation/56/jobs", headers=STUDENT_19).json()["jobs"][0]["result"] is None
    approve(client, 19, {"summary_text": "Bijgewerkt door de docent."})
    result = client.get(f"{PREFIX}/jobs/{job_id}/status", headers=STUDENT_19).json()["result"]
    assert result["summary_text"] == "Bijgewerkt door de docent."


def test_a_student_may_not_send_an_unreviewed_summary_to_a_webhook(client):
    body = {"webhook_url": "http://127.0.0.1:9/hook"}
    refused = client.post(f"{PREFIX}/evaluation/56/student/19/queue", json=body, headers=STUDENT_19)
    assert refused.status_code == 403 and "teacher" in refused.json()["detail"]


def add_comment_to(settings, reviewer: int, reviewee: int, text: str) -> None:
    with session_scope(settings.database_url) as session:
        add_comment(session, 56, reviewer_id=reviewer, reviewee_id=reviewee, text=text)


def test_a_flagged_comment_goes_to_the_teacher_and_never_to_the_student(client, demo_school):
    add_comment_to(demo_school, 20, 19, THREAT)
    teacher_view = client.get(f"{PREFIX}/evaluation/56/student/19/quotes", headers=TEACHER).json()["quotes"]
    assert [q["flagged"] for q in teacher_view if q["text"] == THREAT] == ["threat"]
    assert sum(q["flagged"] is not None for q in teacher_view) == 1

    assert client.get(f"{PREFIX}/evaluation/56/student/19/quotes", headers=STUDENT_19).status_code == 404
    approve(client, 19)
    student_view = client.get(f"{PREFIX}/evaluation/56/student/19/quotes", headers=STUDENT_19).json()
    assert student_view["count"] == len(teacher_view) - 1
    assert THREAT not in {q["text"] for q in student_view["quotes"]}
    assert all(q["flagged"] is None for q in student_view["quotes"])


def test_the_review_table_counts_flagged_comments_and_shows_each_state(client, demo_school):
    add_comment_to(demo_school, 20, 19, THREAT)
    add_comment_to(demo_school, 21, 19, "Wat een klootzak.")
    approve(client, 20, {"summary_text": "Aangepast."})
    table = client.get(f"{PREFIX}/evaluation/56/review", headers=TEACHER).json()
    assert table["release"] == "after_review"
    rows = {row["student_id"]: row for row in table["students"]}
    assert len(rows) == 8
    assert (rows[19]["flagged_comments"], rows[19]["has_summary"], rows[19]["released"]) == (2, True, False)
    assert (rows[20]["released"], rows[20]["edited"], rows[20]["flagged_comments"]) == (True, True, 0)
    assert (rows[21]["has_summary"], rows[21]["released"]) == (False, False)
    assert client.get(f"{PREFIX}/evaluation/56/review", headers=STUDENT_19).status_code == 403

