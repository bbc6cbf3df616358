"""A teacher's afternoon in a real browser: generate a class's summaries, watch them arrive, read one,
approve them; then the student signs in and sees their own summary only."""

from playwright.sync_api import expect

from tests.support.browser import sign_in

DUTCH = "Projectweek duurzaamheid: peer-evaluatie"


def test_generate_all_fills_every_row_live_and_a_student_sees_only_their_own_summary(web_app, page, shot):
    sign_in(page, web_app, "docent@example.com")
    page.get_by_role("link", name=DUTCH).click()
    expect(page.locator("#live")).to_have_text("live")
    rows = page.locator("#students tbody tr")
    expect(rows).to_have_count(8)
    expect(rows.locator(".state.none")).to_have_count(8)
    shot(page, "evaluation-before")

    page.get_by_role("button", name="Generate all").click()
    expect(page.locator("#notice")).to_contain_text("Summaries asked for: 8 queued")
    # No reload: the states arrive through the events stream.
    expect(rows.locator(".state.completed")).to_have_count(8, timeout=60_000)
    expect(rows.locator('[data-field="method"]', has_text="builtin")).to_have_count(8)
    shot(page, "evaluation-completed")

    page.get_by_role("link", name="Jan de Vries").click()
    expect(page.get_by_role("heading", name="Jan de Vries")).to_be_visible()
    summary = page.locator(".summary-text")
    expect(summary).not_to_be_empty()
    expect(summary).not_to_contain_text("Jan")
    expect(page.locator("table.chart tbody tr")).to_have_count(4)
    expect(page.locator("ul.quotes li").first).to_be_visible()
    shot(page, "student-detail")
    jan_summary = summary.inner_text()

    page.goto(web_app.url("/evaluations/56/review"))
    page.get_by_role("button", name="Approve all completed (8 waiting)").click()
    expect(page.locator("#notice")).to_contain_text("Approved 8")
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, web_app, "jan@example.com")
    expect(page.get_by_role("heading", name="My feedback summaries")).to_be_visible()
    expect(page.locator(".own-summary", has_text=DUTCH).locator(".summary-text")).to_have_text(jan_summary)
    for classmate in ("Sanne Bakker", "Daan Visser", "Emma de Boer"):
        expect(page.get_by_text(classmate)).to_have_count(0)
    shot(page, "student-own-summaries")


def test_a_teacher_cancels_a_queued_job_from_the_evaluation_page(web_app_without_worker, page, shot):
    app = web_app_without_worker
    sign_in(page, app, "docent@example.com")
    page.goto(app.url("/evaluations/56"))
    jan = page.locator("#students tbody tr", has_text="Jan de Vries")
    jan.get_by_role("button", name="Regenerate").click()
    expect(jan.locator(".state")).to_have_text("queued")
    shot(page, "queued")

    jan.get_by_role("button", name="Cancel").click()
    expect(page.locator("#notice")).to_have_text("Cancelled the summary of Jan de Vries.")
    expect(jan.locator(".state")).to_have_text("cancelled")
    expect(jan.get_by_role("button", name="Regenerate")).to_be_visible()
    shot(page, "cancelled")
