"""Collecting, seen by the teacher and reached by mail: progress per team, reminders that land their reader
signed in on the form (once), the mail page without a mail server, and the mail when a summary is released."""

import re
from datetime import timedelta

from sqlalchemy import delete, select

from peerdigest.config import AuthMode
from peerdigest.db.models import Allocation, OutgoingMail, Score, SignInLink, Submission, User, utcnow
from peerdigest.db.session import session_scope
from peerdigest.domain import mail, sign_in_links
from peerdigest.queue.mail import attempt
from tests.support.api import api_client
from tests.support.feedback import store_summary
from tests.support.smtp import mail_server  # noqa: F401 (fixture)
from tests.support.web import form_token, sign_in

PUBLIC = "http://testserver"


def _collecting(settings):
    """Evaluation 56 partway through: Jan submitted, Mohammed has not started, the others are partway."""
    with session_scope(settings.database_url) as session:
        now = utcnow()
        session.add(Submission(evaluation_id=56, reviewer_id=19, started_at=now, saved_at=now, submitted_at=now))
        session.add(Submission(evaluation_id=56, reviewer_id=20, started_at=now, saved_at=now))
        his = select(Allocation.id).where(Allocation.evaluation_id == 56, Allocation.reviewer_id == 21)
        session.execute(delete(Score).where(Score.allocation_id.in_(his)))
        session.get(User, 22).language = "en"  # Lisa reads English; the school is Dutch


def _teacher(settings):
    client = api_client(settings)
    return client, sign_in(client, "docent@example.com")


def _link(message) -> str:
    return re.search(r"http://testserver/\S+", message.get_content()).group(0)


def _follow(client, link: str, **options):
    """Open a mail's link and press its Sign in button, as its reader does."""
    page = client.get(link.removeprefix(PUBLIC))
    assert page.status_code == 200, page.text
    form = {name: form_token(page.text, name) for name in ("secret", "sign_in_token", "csrf_token")}
    return client.post("/sign-in/link", data=form, **options)


def test_the_progress_page_shows_each_team_and_who_is_where_and_its_json_follows(demo_school):
    _collecting(demo_school)
    teacher, _ = _teacher(demo_school)
    page = teacher.get("/evaluations/56/progress").text
    assert "Team Noord" in page and "Team Zuid" in page
    assert re.search(r'data-reviewer="19">.*?has submitted', page, re.S)
    assert re.search(r'data-reviewer="21">.*?has not started', page, re.S)
    assert re.search(r'data-reviewer="20">.*?is partway', page, re.S)

    now = teacher.get("/evaluations/56/progress.json").json()
    assert now["counts"] == {"not_started": 1, "partway": 6, "submitted": 1}
    jan = next(r for r in now["reviewers"] if r["user_id"] == 19)
    assert (jan["state"], jan["label"]) == ("submitted", "has submitted") and jan["submitted_at"] != "–"

    student = api_client(demo_school)
    sign_in(student, "jan@example.com")
    assert student.get("/evaluations/56/progress").status_code == 403
    assert student.get("/evaluations/56/progress.json").status_code == 403


def test_a_reminder_reaches_who_has_not_submitted_and_its_link_signs_them_in_once(demo_school, mail_server):
    settings = demo_school.model_copy(update={"smtp_url": mail_server.url, "public_url": PUBLIC})
    _collecting(settings)
    teacher, csrf = _teacher(settings)
    confirm = teacher.get("/evaluations/56/remind").text
    assert "A reminder goes to the 7 students who have not submitted yet" in confirm
    assert "Jan de Vries" not in confirm

    answer = teacher.post("/evaluations/56/remind", data={"csrf_token": csrf}, follow_redirects=False)
    assert answer.headers["location"] == "/evaluations/56/progress"
    with session_scope(settings.database_url) as session:
        ids = session.scalars(select(OutgoingMail.id).where(OutgoingMail.kind == "reminder")).all()
    assert len(ids) == 7
    for mail_id in ids:
        assert attempt(settings, mail_id) is True

    assert mail_server.to("jan@example.com") == []
    (sanne,) = mail_server.to("sanne@example.com")
    assert sanne["Subject"].strip().startswith("Herinnering: je feedback voor")  # the school's language
    (lisa,) = mail_server.to("lisa@example.com")
    assert lisa["Subject"].strip() == "Reminder: your feedback for Projectweek duurzaamheid: peer-evaluatie"
    assert "You have not submitted your feedback" in lisa.get_content()

    browser = api_client(settings)
    landed = _follow(browser, _link(sanne), follow_redirects=False)
    assert (landed.status_code, landed.headers["location"]) == (303, "/my-evaluations/56")
    assert "Sanne Bakker" in browser.get("/my-summaries").text  # signed in as Sanne

    again = api_client(settings).get(_link(sanne).removeprefix(PUBLIC), follow_redirects=False)
    assert again.status_code == 410
    assert "This sign-in link was used already; each link works once." in again.text
    with session_scope(settings.database_url) as session:
        assert all(m.sent_at is not None and m.attempts == 1 for m in session.scalars(select(OutgoingMail)))


def test_without_a_mail_server_the_mail_page_lists_each_message_and_its_link(demo_school):
    settings = demo_school.model_copy(update={"public_url": PUBLIC})
    _collecting(settings)
    teacher, csrf = _teacher(settings)
    answer = teacher.post("/evaluations/56/remind", data={"csrf_token": csrf})
    assert answer.url.path == "/evaluations/56/mail"
    assert "Reminder written to 7 students. No mail server is set up (SMTP_URL): send these by hand." in answer.text
    with session_scope(settings.database_url) as session:
        links = session.scalars(select(OutgoingMail.link)).all()
    assert len(links) == 7 and all(link.startswith(f"{PUBLIC}/sign-in/link/") for link in links)
    for link in links:
        assert f'data-copy="{link}"' in answer.text
    assert answer.text.count("Copy message") == 7 and "so nothing is sent" in answer.text


def test_opening_a_link_only_asks_to_sign_in_so_a_mail_scanner_fetching_it_spends_nothing(demo_school):
    with session_scope(demo_school.database_url) as session:
        created = sign_in_links.create(session, session.get(User, 19), "/my-summaries", timedelta(hours=1))
    scanner = api_client(demo_school)
    for _ in range(2):  # a scanner's look, then the reader's own
        page = scanner.get(created.path)
        assert page.status_code == 200 and "Sign in as Jan de Vries" in page.text
        assert page.headers["cache-control"] == "no-store"
    with session_scope(demo_school.database_url) as session:
        assert session.get(SignInLink, created.link.id).used_at is None
    assert scanner.get("/my-summaries", follow_redirects=False).status_code == 303, "not signed in by a look"

    other_site = api_client(demo_school)  # a form on another site: the secret, but not the page's cookie
    other_site.cookies.set("peerdigest_sign_in", "its-own")
    for guess in ("guessed", "gé"):
        forged = other_site.post("/sign-in/link", data={"secret": created.secret, "sign_in_token": guess})
        assert forged.status_code == 403 and "The sign-in form had expired; please try again." in forged.text
    assert other_site.get("/my-summaries", follow_redirects=False).status_code == 303

    reader = api_client(demo_school)
    assert _follow(reader, PUBLIC + created.path).url.path == "/my-summaries"
    assert "Jan de Vries" in reader.get("/my-summaries").text
    again = api_client(demo_school).get(created.path)
    assert again.status_code == 410 and "This sign-in link was used already; each link works once." in again.text


def test_a_link_that_expired_or_was_never_made_is_a_clear_page(demo_school):
    with session_scope(demo_school.database_url) as session:
        old = sign_in_links.create(session, session.get(User, 19), "/my-summaries", timedelta(seconds=-1))
    client = api_client(demo_school)
    expired = client.get(old.path, follow_redirects=False)
    assert expired.status_code == 410 and "This sign-in link has expired." in expired.text
    unknown = client.get("/sign-in/link/made-up", follow_redirects=False)
    assert unknown.status_code == 410 and "This sign-in link is not known here." in unknown.text
    assert client.get("/my-summaries", follow_redirects=False).status_code == 303  # still not signed in


def test_a_link_signs_in_in_token_mode_and_in_proxy_mode_a_mail_points_at_the_page(demo_school):
    token_mode = demo_school.model_copy(update={"auth_mode": AuthMode.token, "public_url": PUBLIC})
    with session_scope(token_mode.database_url) as session:
        link = mail.link(session, token_mode, session.get(User, 19), "/my-summaries")
    browser = api_client(token_mode)
    assert _follow(browser, link).url.path == "/my-summaries"
    assert "Jan de Vries" in browser.get("/my-summaries").text

    proxy_mode = demo_school.model_copy(update={"auth_mode": AuthMode.proxy, "public_url": PUBLIC})
    with session_scope(proxy_mode.database_url) as session:
        assert mail.link(session, proxy_mode, session.get(User, 19), "/my-summaries") == f"{PUBLIC}/my-summaries"
        assert len(session.scalars(select(SignInLink)).all()) == 1, "only the token mode's link was made"


def test_approving_a_summary_mails_its_student_once_with_a_link_to_it(demo_school, mail_server):
    settings = demo_school.model_copy(update={"smtp_url": mail_server.url, "public_url": PUBLIC})
    with session_scope(settings.database_url) as session:
        store_summary(session, 56, 19, summary_text="Jan werkt goed samen.")
    teacher, csrf = _teacher(settings)
    for _ in range(2):  # approving again (or after an edit) sends nothing more
        teacher.post("/evaluations/56/review/19", data={"csrf_token": csrf, "summary_text": "Jan werkt goed samen."})
    with session_scope(settings.database_url) as session:
        (released,) = session.scalars(select(OutgoingMail)).all()
        assert (released.kind, released.user_id, released.to_address) == ("released", 19, "jan@example.com")
    assert attempt(settings, released.id) is True

    (message,) = mail_server.to("jan@example.com")
    assert "samenvatting" in message["Subject"]
    jan = api_client(settings)
    assert _follow(jan, _link(message)).url.path == "/my-summaries"
    assert "Jan werkt goed samen." in jan.get("/my-summaries").text


def test_making_release_automatic_tells_each_student_with_a_written_summary_once(demo_school):
    with session_scope(demo_school.database_url) as session:
        store_summary(session, 57, 19, summary_text="Jan works well with others.")
        store_summary(session, 57, 20, summary_text="Sanne explains clearly.")
    teacher, csrf = _teacher(demo_school)
    for mode in ("automatic", "after_review", "automatic"):
        teacher.post("/evaluations/57/release", data={"csrf_token": csrf, "mode": mode})
    with session_scope(demo_school.database_url) as session:
        told = session.execute(select(OutgoingMail.kind, OutgoingMail.user_id).order_by(OutgoingMail.user_id)).all()
    assert told == [("released", 19), ("released", 20)]


def test_someone_without_a_token_asks_for_a_link_by_mail_and_is_signed_in_by_it(demo_school, mail_server):
    settings = demo_school.model_copy(update={"auth_mode": AuthMode.token, "smtp_url": mail_server.url,
                                              "public_url": PUBLIC})
    browser = api_client(settings)
    assert "No token? Get a sign-in link by mail" in browser.get("/sign-in").text
    for address in ("Jan@Example.com", "jan@example.com", "nobody@example.com"):
        answer = browser.post("/sign-in/mail", data={"email": address, "next": "/my-summaries"})
        assert "If this address belongs to someone here, a sign-in link is on its way" in answer.text
    with session_scope(settings.database_url) as session:
        (written,) = session.scalars(select(OutgoingMail)).all()  # one per address every few minutes
        assert (written.kind, written.evaluation_id, written.user_id) == ("sign_in", None, 19)
    assert attempt(settings, written.id) is True

    (message,) = mail_server.to("jan@example.com")
    assert message["Subject"].strip() == "Je aanmeldlink voor peerdigest"
    landed = _follow(browser, _link(message), follow_redirects=False)
    assert landed.headers["location"] == "/my-summaries"
    assert "Jan de Vries" in browser.get("/my-summaries").text


def test_without_a_mail_server_the_sign_in_page_says_to_ask_the_teacher(demo_school):
    page = api_client(demo_school).get("/sign-in/mail").text
    assert "This installation sends no mail. Ask your teacher for a sign-in link" in page
