"""The pages speak the reader's language: their own setting, else their browser's, else their school's; numbers
and times in that language's way and the school's time zone. The API stays English whatever the browser says."""

from datetime import datetime, timezone

from sqlalchemy import select

from peerdigest.db.models import User
from peerdigest.db.session import session_scope
from tests.support.api import PREFIX, TEACHER, api_client
from tests.support.feedback import store_summary
from tests.support.web import form_token, sign_in

DUTCH = {"Accept-Language": "nl-NL,nl;q=0.9,en;q=0.5"}
WRITTEN = datetime(2026, 12, 5, 16, 48, tzinfo=timezone.utc)  # 17:48 in Amsterdam


def _summary_written(demo_school):
    with session_scope(demo_school.database_url) as session:
        store_summary(session, 56, 20, summary_text="Sanne communiceert helder.").written_at = WRITTEN


def _teacher(demo_school, headers=None, language=None):
    """The demo teacher signed in, with `language` as their own setting, from a browser sending `headers`."""
    with session_scope(demo_school.database_url) as session:
        session.scalar(select(User).where(User.email == "docent@example.com")).language = language
    client = api_client(demo_school, headers=headers or {})
    sign_in(client, "docent@example.com")
    return client


def test_a_dutch_browser_reads_dutch_pages_with_dutch_numbers_and_amsterdam_time(demo_school):
    _summary_written(demo_school)
    client = _teacher(demo_school, DUTCH)
    evaluation = client.get("/evaluations/56").text
    assert '<html lang="nl">' in evaluation and "Ontbrekende maken" in evaluation and "Generate missing" not in evaluation
    assert ">1,05</span>" in evaluation  # Emma's contribution factor
    assert "grote bijdrage" in evaluation and "high_performer</span>" not in evaluation
    assert "Teamgenoten beoordelen deze leerling ruim boven het teamgemiddelde." in evaluation  # the label explained
    review = client.get("/evaluations/56/review").text
    assert "Geschreven 5 dec. 2026 17:48" in review and "UTC" not in review
    teams = client.get("/evaluations/56/teams").text
    assert "Wat de signalen betekenen" in teams and ">betrouwbaar<" in teams and "docs/INSIGHTS.md" not in teams


def test_an_english_browser_reads_english_with_english_numbers_in_the_schools_time_zone(demo_school):
    _summary_written(demo_school)
    client = _teacher(demo_school)
    evaluation = client.get("/evaluations/56").text
    assert '<html lang="en">' in evaluation and "Generate missing" in evaluation and ">1.05</span>" in evaluation
    assert "Written 5 Dec 2026, 17:48" in client.get("/evaluations/56/review").text


def test_the_users_own_language_counts_before_the_browsers(demo_school):
    dutch_user = _teacher(demo_school, {"Accept-Language": "en"}, language="nl")
    assert "Ontbrekende maken" in dutch_user.get("/evaluations/56").text

    english_user = _teacher(demo_school, DUTCH, language="en")
    page = english_user.get("/evaluations/56").text
    assert "Generate missing" in page and "Ontbrekende maken" not in page


def test_choosing_a_language_in_the_header_saves_it_as_the_users_own(demo_school):
    client = _teacher(demo_school)
    page = client.get("/evaluations/56").text
    chosen = client.post("/language", data={"csrf_token": form_token(page), "language": "nl", "next": "/evaluations/56"})
    assert chosen.status_code == 200 and "Ontbrekende maken" in chosen.text
    with session_scope(demo_school.database_url) as session:
        assert session.scalar(select(User.language).where(User.email == "docent@example.com")) == "nl"
    # Another browser of the same user, set to English, reads Dutch too: the choice is the user's.
    elsewhere = api_client(demo_school)
    sign_in(elsewhere, "docent@example.com")
    assert "Ontbrekende maken" in elsewhere.get("/evaluations/56").text


def test_the_language_chooser_needs_the_pages_form_token_when_signed_in(demo_school):
    client = _teacher(demo_school)
    answer = client.post("/language", data={"language": "nl", "next": "/evaluations"})
    assert answer.status_code == 403
    with session_scope(demo_school.database_url) as session:
        assert session.scalar(select(User.language).where(User.email == "docent@example.com")) is None


def test_the_sign_in_page_offers_the_other_language_and_remembers_the_choice(demo_school):
    client = api_client(demo_school)
    assert "Aanmelden" not in client.get("/sign-in").text
    chosen = client.post("/language", data={"language": "nl", "next": "/sign-in?next=/evaluations"})
    assert chosen.status_code == 200 and "<h1>Aanmelden</h1>" in chosen.text and 'value="/evaluations"' in chosen.text
    assert client.post("/language", data={"language": "fr", "next": "/sign-in"}).status_code == 422
    away = client.post("/language", data={"language": "en", "next": "https://elsewhere.example/"}, follow_redirects=False)
    assert away.headers["location"] == "/"


def test_errors_read_dutch_on_pages_and_english_in_the_api(demo_school, other_school_teacher):
    client = api_client(demo_school, headers=DUTCH)
    sign_in(client, "juf@andere.example")
    assert "Evaluatie 56 bestaat niet." in client.get("/evaluations/56").text
    api = client.get(f"{PREFIX}/evaluation/56/insights", headers={**DUTCH, **other_school_teacher})
    assert api.json()["detail"] == "Evaluation 56 not found."
    insights = client.get(f"{PREFIX}/evaluation/56/insights", headers={**DUTCH, **TEACHER}).json()
    reasons = [label["reason"] for student in insights["students"] for label in student["labels"]]
    assert reasons and all("Peers" in r or "Rated" in r or "Self" in r or "rates" in r or "team" in r for r in reasons)


def test_checking_a_file_tells_its_problems_in_dutch(demo_school):
    client = _teacher(demo_school, DUTCH)
    page = client.get("/import").text
    rows = ("reviewer_email,reviewer_name,reviewee_email,reviewee_name,team,criterion,score,comment\n"
            "jan@example.com,Jan,sanne@example.com,Sanne,A,Inzet,veel,Goed\n")
    answer = client.post("/import/check", data={"evaluation": "Nieuw"}, headers={"X-CSRF-Token": form_token(page)},
                         files={"file": ("feedback.csv", rows.encode(), "text/csv")})
    assert "1 probleem in feedback.csv" in answer.text and "score &#39;veel&#39; is geen getal" in answer.text
