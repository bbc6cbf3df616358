"""A student fills in the peer evaluation on a phone: half of it, closes the page, comes back to find it all there,
completes it and submits it."""

import time

from playwright.sync_api import expect
from sqlalchemy import select

from peerdigest.db.models import Allocation, Score
from peerdigest.db.session import session_scope
from tests.support.browser import sign_in
from tests.support.collect import JAN, SANNE, open_evaluation

LAST_WORDS = "Typed just before closing the tab"


def _stored_comments(settings, evaluation_id) -> set[str]:
    with session_scope(settings.database_url) as session:
        return set(
            session.scalars(
                select(Score.comment).join(Allocation).where(
                    Allocation.evaluation_id == evaluation_id, Allocation.reviewer_id == JAN,
                    Allocation.reviewee_id == SANNE, Score.comment.is_not(None),
                )
            )
        )


def _wait_for_comment(settings, evaluation_id, text: str) -> set[str]:
    """The beacon is sent as the page goes; the server may take a moment to write it."""
    deadline = time.monotonic() + 15
    while text not in (found := _stored_comments(settings, evaluation_id)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return found


def _no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_student_fills_in_half_closes_the_tab_comes_back_and_submits_on_a_phone(web_app_without_worker, phone_page, shot):
    app, page = web_app_without_worker, phone_page
    evaluation_id = open_evaluation(app.settings)
    sign_in(page, app, "jan@example.com")

    expect(page.get_by_role("heading", name="My evaluations")).to_be_visible()
    sprint = page.locator(".own-evaluation", has_text="Sprint 2")
    expect(sprint.locator(".state")).to_have_text("not started")
    shot(page, "my-evaluations")
    sprint.get_by_role("link", name="Start").click()

    expect(page.get_by_role("heading", name="Sprint 2")).to_be_visible()
    assert _no_sideways_scroll(page)
    page.get_by_label("Collaboration for Sanne Bakker: 4").check()
    page.get_by_label("Effort for Sanne Bakker: 8").check()
    sanne = page.locator(f"#person-{SANNE}")
    sanne.get_by_label("Comment on Collaboration (optional)").fill("Sanne plans our sprints")
    page.get_by_label("Collaboration for Mohammed El Amrani: 3").check()
    expect(page.locator("#save-status")).to_contain_text("Saved")
    expect(page.locator("#form-state")).to_have_text("partway")
    shot(page, "half-filled")

    # The last words go out with the beacon as the tab closes, before any autosave could send them.
    sanne.get_by_label("Comment on Effort (optional)").fill(LAST_WORDS)
    context = page.context
    page.close(run_before_unload=True)
    assert LAST_WORDS in _wait_for_comment(app.settings, evaluation_id, LAST_WORDS)

    page = context.new_page()
    page.goto(app.url("/my-evaluations"))
    sprint = page.locator(".own-evaluation", has_text="Sprint 2")
    expect(sprint.locator(".state")).to_have_text("partway")
    sprint.get_by_role("link", name="Continue").click()
    expect(page.get_by_label("Collaboration for Sanne Bakker: 4")).to_be_checked()
    expect(page.get_by_label("Effort for Sanne Bakker: 8")).to_be_checked()
    expect(page.get_by_label("Collaboration for Mohammed El Amrani: 3")).to_be_checked()
    expect(page.locator(f"#person-{SANNE}").get_by_label("Comment on Effort (optional)")).to_have_value(LAST_WORDS)

    # Submitting too early names what is missing.
    page.get_by_role("button", name="Submit").click()
    problems = page.locator("#problems")
    expect(problems).to_contain_text("Lisa Jansen: no score for Collaboration")
    expect(problems).to_contain_text("Mohammed El Amrani: no score for Effort")
    shot(page, "missing")

    page.get_by_label("Effort for Mohammed El Amrani: 6").check()
    page.get_by_label("Collaboration for Lisa Jansen: 5").check()
    page.get_by_label("Effort for Lisa Jansen: 10").check()
    assert _no_sideways_scroll(page)
    shot(page, "complete")
    page.get_by_role("button", name="Submit").click()

    confirmation = page.locator(".confirmation")
    expect(confirmation.get_by_role("heading", name="Submitted")).to_be_visible()
    expect(confirmation).to_contain_text("changes count without submitting again")
    shot(page, "submitted")
    page.get_by_role("link", name="My evaluations").last.click()
    expect(page.locator(".own-evaluation", has_text="Sprint 2").locator(".state")).to_have_text("submitted")
    context.close()
