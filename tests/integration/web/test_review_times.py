"""What the review pages tell a teacher before they act: when a summary was written apart from when it was
approved, and, before printing, which students have no approved summary yet."""

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from peerdigest.db.models import FeedbackSummary
from peerdigest.db.session import session_scope
from tests.support.api import api_client
from tests.support.feedback import store_summary
from tests.support.web import sign_in


def test_approving_keeps_the_time_the_summary_was_written(demo_school):
    written = datetime(2026, 11, 2, 9, 15, tzinfo=timezone.utc)  # 10:15 in Amsterdam
    with session_scope(demo_school.database_url) as session:
        summary = store_summary(session, 56, 19, summary_text="Jan werkt goed samen.")
        summary.written_at = summary.updated_at = written
    client = api_client(demo_school)
    csrf = sign_in(client, "docent@example.com")
    client.post("/evaluations/56/review/19", data={"csrf_token": csrf})
    with session_scope(demo_school.database_url) as session:
        summary = session.scalar(select(FeedbackSummary).where(FeedbackSummary.student_id == 19))
        assert summary.written_at == written and summary.approved_at > written + timedelta(days=1)
        approved = summary.approved_at
    from peerdigest import i18n

    with i18n.use_language("en"):
        shown_written = i18n.format_datetime(written, "Europe/Amsterdam")
        shown_approved = i18n.format_datetime(approved, "Europe/Amsterdam")
    assert shown_written == "2 Nov 2026, 10:15"
    for page in (client.get("/evaluations/56/review").text, client.get("/evaluations/56/students/19").text):
        assert shown_written in page and shown_approved in page


def test_the_print_view_warns_on_screen_while_summaries_wait_for_approval(demo_school):
    with session_scope(demo_school.database_url) as session:
        store_summary(session, 56, 19, summary_text="Jan werkt goed samen.")
    client = api_client(demo_school)
    csrf = sign_in(client, "docent@example.com")
    page = client.get("/evaluations/56/print").text
    assert 'class="print-notice"' in page and "8 of 8 students have no approved summary yet" in page
    assert 'href="/evaluations/56/review"' in page
    assert ".toolbar, .print-notice { display: none; }" in page  # never on paper
    client.post("/evaluations/56/review/19", data={"csrf_token": csrf})
    assert "7 of 8 students" in client.get("/evaluations/56/print").text
    download = client.get("/api/v1/feedback-summaries/evaluation/56/export?format=html&copy=student",
                          headers={"X-User-Email": "docent@example.com"}).text
    assert 'class="print-notice"' not in download
