"""The operations page in a real browser: the installation's administrator sees queues, workers and a failed
job, and retries it; nobody else may open the page."""

import time

from playwright.sync_api import expect

from peerdigest.db.session import session_scope
from peerdigest.queue.connection import connect
from peerdigest.queue.health import live_workers
from tests.support.browser import sign_in
from tests.support.feedback import failed_job


def test_an_operator_retries_a_failed_job_from_the_operations_page(web_app_for_operators, page, shot):
    web_app = web_app_for_operators
    with session_scope(web_app.settings.database_url) as session:
        job_id = failed_job(
            session, connect(web_app.settings.redis_url), web_app.settings, 56, 19,
            error_message="failed on attempt 3 of 3: LLM endpoint answered 500",
        ).job_id
    _wait_for_a_live_worker(web_app)

    sign_in(page, web_app, "admin@example.com")
    page.get_by_role("link", name="Operations").click()
    expect(page.get_by_role("heading", name="Operations")).to_be_visible()
    expect(page.locator("#queues")).to_contain_text("summaries-high")
    expect(page.locator("#workers tbody tr").first).not_to_contain_text("No worker is registered")
    row = page.locator(f'tr[data-job="{job_id}"]')
    expect(row).to_contain_text("LLM endpoint answered 500")
    expect(page.locator("#jobs-chart svg rect.bar.failed")).to_have_count(1)
    shot(page, "operations")

    row.get_by_role("button", name="Retry").click()
    expect(page.locator("#notice")).to_contain_text(f"Retrying {job_id} as summary-56-19-")
    expect(page.locator(f'tr[data-job="{job_id}"]')).to_have_count(0)
    expect(page.locator("#failed")).to_contain_text("No failed job waits for you.")
    shot(page, "retried")


def test_a_schools_admin_who_does_not_run_the_installation_may_not_open_it(web_app, page):
    sign_in(page, web_app, "admin@example.com")  # no INSTALLATION_ADMINS in this app
    expect(page.get_by_role("link", name="Operations")).to_have_count(0)
    page.goto(web_app.url("/operations"))
    expect(page.get_by_text("Only the installation's administrators (INSTALLATION_ADMINS)")).to_be_visible()


def _wait_for_a_live_worker(app, timeout: float = 30) -> None:
    """The app's worker registers itself a moment after it starts; the page shows what Redis knows."""
    redis = connect(app.settings.redis_url)
    deadline = time.monotonic() + timeout
    while not live_workers(redis, app.settings):
        assert time.monotonic() < deadline, f"the worker did not register within {timeout} s"
        time.sleep(0.2)
