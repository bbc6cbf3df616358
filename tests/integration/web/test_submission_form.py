"""The student's form, signed in as a student: open evaluations, autosave, resume, submit, the close, strangers."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from peerdigest.db.models import Allocation, Evaluation, Score, Submission, utcnow
from peerdigest.db.session import session_scope
from peerdigest.domain.feedback import collect
from tests.support.api import api_client
from tests.support.collect import JAN, LISA, MOHAMMED, SANNE, TEAM_ZUID, open_evaluation
from tests.support.web import sign_in


def _criteria(settings, evaluation_id) -> dict[str, int]:
    with session_scope(settings.database_url) as session:
        return {c.name: c.id for c in session.get(Evaluation, evaluation_id).criteria}


def _autosave(client, csrf, evaluation_id, reviewee, criterion, score="", comment=""):
    """What the form's script posts for one answer."""
    return client.post(
        f"/my-evaluations/{evaluation_id}/save",
        data={"csrf_token": csrf, "autosave": "1", f"score-{reviewee}-{criterion}": score,
              f"comment-{reviewee}-{criterion}": comment},
    )


def _everything(csrf, criteria, score="4", **extra) -> dict:
    data = {"csrf_token": csrf, **extra}
    for peer in (SANNE, MOHAMMED, LISA):
        for criterion in criteria.values():
            data[f"score-{peer}-{criterion}"] = score
            data[f"comment-{peer}-{criterion}"] = ""
    return data


@pytest.fixture
def jan(demo_school):
    client = api_client(demo_school)
    csrf = sign_in(client, "jan@example.com")
    return client, csrf


def test_after_signing_in_a_student_sees_the_evaluations_they_score_in_open_closed_and_later(demo_school):
    now = utcnow()
    open_evaluation(demo_school, "Sprint 2")
    open_evaluation(demo_school, "Sprint 1", deadline=now - timedelta(days=2), opens_at=now - timedelta(days=9))
    open_evaluation(demo_school, "Sprint 3", opens_at=now + timedelta(days=3))
    open_evaluation(demo_school, "Put away", archived_at=now)
    client = api_client(demo_school)
    sign_in(client, "jan@example.com")
    page = client.get("/my-evaluations").text  # where sign-in lands a student
    assert page.index("Open now") < page.index("Sprint 2") < page.index("Opening later") < page.index("Sprint 3")
    assert page.index("Closed") < page.index("Sprint 1")
    assert "Put away" not in page
    assert "not started" in page and "Closes" in page
    assert 'href="/my-summaries"' in page


def test_autosave_writes_the_rows_the_scores_api_writes_and_collect_reads(demo_school, jan):
    client, csrf = jan
    evaluation_id = open_evaluation(demo_school)
    criteria = _criteria(demo_school, evaluation_id)

    answer = _autosave(client, csrf, evaluation_id, SANNE, criteria["Collaboration"], "4", "Sanne keeps us on track")
    assert answer.status_code == 200
    assert answer.json()["status"].startswith("Saved ")
    # The scores API, for the same reviewer, writes into the same rows (an update, not a second score).
    api = client.post(
        f"/api/v1/evaluations/{evaluation_id}/scores", headers={"X-CSRF-Token": csrf},
        json={"scores": [{"reviewee_id": SANNE, "criterion_id": criteria["Effort"], "score": 8}]},
    )
    assert api.json() == {"created": 1, "updated": 0, "unchanged": 0, "summaries_marked_stale": 0}

    with session_scope(demo_school.database_url) as session:
        received = collect(session, evaluation_id, SANNE)
        submission = session.scalar(select(Submission).where(Submission.evaluation_id == evaluation_id))
    assert [(c.criterion, c.text, c.score) for c in received.comments] == [("Collaboration", "Sanne keeps us on track", 4)]
    assert {c.name: c.average for c in received.criteria} == {"Collaboration": 4, "Effort": 8}
    assert submission.reviewer_id == JAN and submission.started_at <= submission.saved_at
    page = client.get(f"/my-evaluations/{evaluation_id}").text
    assert re.search(rf'name="score-{SANNE}-{criteria["Effort"]}" value="8" checked', page), "the API's score shows on the form"


def test_a_form_filled_in_partway_is_found_again_and_completed(demo_school, jan):
    client, csrf = jan
    evaluation_id = open_evaluation(demo_school)
    criteria = _criteria(demo_school, evaluation_id)
    _autosave(client, csrf, evaluation_id, SANNE, criteria["Collaboration"], "5", "Great planner")

    # A new visit (the tab was closed): the answer is there, and the state says partway.
    page = client.get(f"/my-evaluations/{evaluation_id}").text
    assert re.search(rf'name="score-{SANNE}-{criteria["Collaboration"]}" value="5" checked', page)
    assert "Great planner</textarea>" in page
    assert "Saved " in page
    assert "partway" in client.get("/my-evaluations").text

    # Without JavaScript, the Save button posts the whole form; the answers left empty make no rows.
    blank = {k: "" for k in _everything(csrf, criteria)} | {"csrf_token": csrf}
    assert client.post(f"/my-evaluations/{evaluation_id}/save", data=blank).status_code == 200
    with session_scope(demo_school.database_url) as session:
        rows = session.scalars(select(Score).join(Allocation).where(Allocation.evaluation_id == evaluation_id)).all()
    assert [(r.value, r.comment) for r in rows] == [(None, None)], "Sanne's cleared answer stays, as cleared"
    saved = client.post(f"/my-evaluations/{evaluation_id}/save", data=_everything(csrf, criteria, "3"))
    assert saved.status_code == 200 and "Saved " in saved.text
    assert client.post(f"/my-evaluations/{evaluation_id}/submit", data=_everything(csrf, criteria, "3")).url.path.endswith(
        "/submitted"
    )


def test_submitting_an_incomplete_form_names_each_teammate_and_criterion_missing_and_keeps_the_answers(demo_school, jan):
    client, csrf = jan
    evaluation_id = open_evaluation(demo_school, comment_required=True, self_rating=True)
    criteria = _criteria(demo_school, evaluation_id)
    data = _everything(csrf, criteria)
    data[f"score-{LISA}-{criteria['Effort']}"] = ""
    data[f"comment-{SANNE}-{criteria['Effort']}"] = "Always there"

    answer = client.post(f"/my-evaluations/{evaluation_id}/submit", data=data)
    assert answer.status_code == 422
    assert "Lisa Jansen: no score for Effort" in answer.text
    assert "Mohammed El Amrani: a comment is required" in answer.text
    assert "Sanne Bakker: a comment is required" not in answer.text
    assert "Yourself: no score for Effort" in answer.text, "the self-rating is asked too, without a comment"
    assert "Yourself: a comment is required" not in answer.text
    assert "Always there</textarea>" in answer.text, "what was given is saved even though it was not handed in"
    assert "not started" not in client.get("/my-evaluations").text


def test_a_complete_form_is_confirmed_stays_changeable_and_says_so(demo_school, jan):
    client, csrf = jan
    evaluation_id = open_evaluation(demo_school)
    criteria = _criteria(demo_school, evaluation_id)
    answer = client.post(f"/my-evaluations/{evaluation_id}/submit", data=_everything(csrf, criteria))
    assert answer.status_code == 200 and answer.url.path == f"/my-evaluations/{evaluation_id}/submitted"
    assert "Submitted" in answer.text and "Sprint 2" in answer.text
    assert "changes count without submitting again" in answer.text

    after = _autosave(client, csrf, evaluation_id, SANNE, criteria["Effort"], "9").json()
    assert (after["submitted"], after["state_label"]) == (True, "submitted")
    form = client.get(f"/my-evaluations/{evaluation_id}").text
    assert "You submitted this form on" in form
    assert "submitted" in client.get("/my-evaluations").text
    with session_scope(demo_school.database_url) as session:
        assert session.scalar(select(Submission.submitted_at).where(Submission.evaluation_id == evaluation_id))


def test_after_the_close_the_form_is_read_only_and_a_save_is_refused_with_nothing_written(demo_school, jan):
    client, csrf = jan
    evaluation_id = open_evaluation(demo_school)
    criteria = _criteria(demo_school, evaluation_id)
    _autosave(client, csrf, evaluation_id, SANNE, criteria["Collaboration"], "4", "Before the close")
    with session_scope(demo_school.database_url) as session:
        session.get(Evaluation, evaluation_id).deadline = utcnow() - timedelta(seconds=1)

    form = client.get(f"/my-evaluations/{evaluation_id}")
    assert form.status_code == 200
    assert "This evaluation is closed" in form.text
    assert re.search(r'type="radio"[^>]*value="4" checked\s+disabled', form.text)
    assert "Before the close</textarea>" in form.text and "readonly" in form.text
    assert 'formaction' not in form.text, "no Save or Submit after the close"

    refused = _autosave(client, csrf, evaluation_id, SANNE, criteria["Collaboration"], "1", "After the close")
    assert refused.status_code == 403
    assert refused.json()["detail"] == "This evaluation is closed: your answers can no longer be changed."
    whole = client.post(f"/my-evaluations/{evaluation_id}/submit", data=_everything(csrf, criteria, "1"))
    assert "This evaluation is closed" in whole.text
    with session_scope(demo_school.database_url) as session:
        comments = collect(session, evaluation_id, SANNE).comments
    assert [c.text for c in comments] == ["Before the close"]


def test_a_student_cannot_open_or_save_a_form_they_are_not_in(demo_school, jan, other_school_teacher):
    client, csrf = jan
    evaluation_id = open_evaluation(demo_school)
    criteria = _criteria(demo_school, evaluation_id)
    # Jan reviews his own team only: scoring someone of Team Zuid is refused, and nothing is written.
    refused = _autosave(client, csrf, evaluation_id, 24, criteria["Effort"], "1")
    assert refused.status_code == 422
    # An evaluation of Team Zuid alone is not Jan's: as if it did not exist.
    theirs = open_evaluation(demo_school, "Team Zuid only", teams={"Team Zuid": TEAM_ZUID})
    assert client.get(f"/my-evaluations/{theirs}").status_code == 404
    assert _autosave(client, csrf, theirs, 24, criteria["Effort"], "1").status_code == 404
    assert "Team Zuid only" not in client.get("/my-evaluations").text
    # A teacher is in no form; another school's evaluation does not exist for Jan.
    teacher = api_client(demo_school)
    sign_in(teacher, "docent@example.com")
    assert teacher.get(f"/my-evaluations/{evaluation_id}").status_code == 404
    assert client.get("/my-evaluations/2147483647").status_code == 404
    assert _autosave(client, csrf, 2147483647, SANNE, 1, "1").status_code == 404
    # Without the page's token, nothing is saved.
    assert _autosave(client, "forged", evaluation_id, SANNE, criteria["Effort"], "1").status_code == 403


@pytest.mark.parametrize(
    ("score", "comment"),
    [
        ("4", "nul \x00 inside"),
        ("4", "x" * 10_000),
        ("nan", ""),
        ("1e400", ""),
        ("11", ""),
        ("four", ""),
    ],
    ids=["nul", "10k", "nan", "huge", "off-scale", "words"],
)
def test_hostile_answers_are_refused_in_words_never_with_a_5xx(demo_school, score, comment):
    client = api_client(demo_school, raise_server_exceptions=False)
    csrf = sign_in(client, "jan@example.com")
    evaluation_id = open_evaluation(demo_school)
    criterion = _criteria(demo_school, evaluation_id)["Collaboration"]
    answer = _autosave(client, csrf, evaluation_id, SANNE, criterion, score, comment)
    assert 400 <= answer.status_code < 500, answer.text
    assert answer.json()["detail"]
    whole = client.post(
        f"/my-evaluations/{evaluation_id}/save",
        data={"csrf_token": csrf, f"score-{SANNE}-{criterion}": score, f"comment-{SANNE}-{criterion}": comment},
    )
    assert whole.status_code == 200 and 'class="notice shown error"' in whole.text
    with session_scope(demo_school.database_url) as session:
        assert collect(session, evaluation_id, SANNE).comments == ()


def test_a_lone_surrogate_in_the_raw_bytes_is_refused_too(demo_school, jan):
    client, csrf = jan
    evaluation_id = open_evaluation(demo_school)
    criterion = _criteria(demo_school, evaluation_id)["Collaboration"]
    raw = f"csrf_token={csrf}&autosave=1&score-{SANNE}-{criterion}=4&comment-{SANNE}-{criterion}=a%ED%A0%80b".encode()
    answer = client.post(f"/my-evaluations/{evaluation_id}/save", content=raw,
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 200, "the form parser replaces the broken bytes; the text is stored as replaced"
    with session_scope(demo_school.database_url) as session:
        assert [c.text for c in collect(session, evaluation_id, SANNE).comments] == ["a\ufffd\ufffd\ufffdb"]


def test_a_dutch_reader_gets_the_form_and_its_save_status_in_dutch(demo_school):
    client = api_client(demo_school, headers={"Accept-Language": "nl"})
    csrf = sign_in(client, "jan@example.com")
    evaluation_id = open_evaluation(demo_school)
    criteria = _criteria(demo_school, evaluation_id)
    assert "Nu open" in client.get("/my-evaluations").text
    form = client.get(f"/my-evaluations/{evaluation_id}").text
    assert "Opmerking bij Effort (niet verplicht)" in form and "Inleveren" in form
    saved = _autosave(client, csrf, evaluation_id, SANNE, criteria["Effort"], "7,0").json()
    assert saved["status"].startswith("Opgeslagen ") and saved["state_label"] == "half ingevuld"


def test_a_dutch_reader_hears_a_refused_answer_in_dutch_and_the_api_in_english(demo_school):
    client = api_client(demo_school, headers={"Accept-Language": "nl"})
    csrf = sign_in(client, "jan@example.com")
    evaluation_id = open_evaluation(demo_school)
    effort = _criteria(demo_school, evaluation_id)["Effort"]
    off_scale = _autosave(client, csrf, evaluation_id, SANNE, effort, "11")
    assert (off_scale.status_code, off_scale.json()["detail"]) == (
        422, "Score 11 voor 'Effort' valt buiten de schaal 1-10.")
    stranger = _autosave(client, csrf, evaluation_id, 99, effort, "4")
    assert stranger.json()["detail"] == "Je hoeft leerling 99 in deze evaluatie niet te beoordelen."
    unknown = _autosave(client, csrf, evaluation_id, SANNE, 999_999, "4")
    assert unknown.json()["detail"] == "Criterium 999999 hoort niet bij deze evaluatie."

    api = api_client(demo_school).post(f"/api/v1/evaluations/{evaluation_id}/scores",
                                       headers={"X-User-Email": "jan@example.com", "Accept-Language": "nl"}, json={"scores": [{"reviewee_id": SANNE, "criterion_id": effort, "score": 11}]})
    assert api.json()["detail"] == "Score 11 for 'Effort' is outside its scale 1-10."
