"""Following an evaluation while it collects, in a real browser: the progress page changes by itself when a
student submits, and a reminder without a mail server lands on the Mail page with every link to copy."""

from playwright.sync_api import expect

from peerdigest.db.models import Submission, utcnow
from peerdigest.db.session import session_scope
from tests.support.browser import sign_in


def test_the_progress_page_follows_a_submission_and_a_reminder_can_be_sent_by_hand(web_app_without_worker, page, shot):
    app = web_app_without_worker
    sign_in(page, app, "docent@example.com")
    page.goto(app.url("/evaluations/56"))
    page.get_by_role("link", name="Progress").click()
    sanne = page.locator('tr[data-reviewer="20"]')
    expect(sanne.locator('[data-field="label"]')).to_have_text("is partway")
    expect(page.locator('[data-count="submitted"]')).to_have_text("0")
    shot(page, "progress")

    with session_scope(app.settings.database_url) as session:
        now = utcnow()
        session.add(Submission(evaluation_id=56, reviewer_id=20, started_at=now, saved_at=now, submitted_at=now))
    expect(sanne.locator('[data-field="label"]')).to_have_text("has submitted", timeout=15_000)  # no reload
    expect(page.locator('[data-count="submitted"]')).to_have_text("1")
    expect(sanne.locator('[data-field="submitted_at"]')).not_to_have_text("–")
    shot(page, "progress-after-a-submission")

    page.get_by_role("link", name="Send reminder").click()
    expect(page.get_by_text("A reminder goes to the 7 students who have not submitted yet:")).to_be_visible()
    page.get_by_role("button", name="Send the reminder to 7 students").click()
    expect(page.locator("#notice")).to_contain_text("Reminder written to 7 students.")
    expect(page.get_by_role("button", name="Copy link")).to_have_count(7)
    shot(page, "mail-to-send-by-hand")
