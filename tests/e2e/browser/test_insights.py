"""A teacher reads the class's numbers in the browser: factors and label badges on the evaluation page,
a filter on them, and every team's rating matrix."""

from playwright.sync_api import expect

from tests.support.browser import sign_in


def test_a_teacher_sees_factors_badges_and_the_teams_rating_matrix(web_app_without_worker, page, shot):
    app = web_app_without_worker
    sign_in(page, app, "docent@example.com")
    page.goto(app.url("/evaluations/56"))
    emma = page.locator("#students tbody tr", has_text="Emma de Boer")
    expect(emma.locator('[data-label="Factor"]')).to_have_text("1.05")
    badge = emma.locator(".badge.label-high_performer")
    expect(badge).to_have_text("high performer")
    expect(badge).to_have_attribute("title", "Peers rate this student 1.22 times the team average.")
    shot(page, "evaluation-with-insights")

    page.locator("#label-filter").select_option("low_performer")
    visible = page.locator("#students tbody tr:visible")
    expect(visible).to_have_count(2)
    expect(visible.filter(has_text="Daan Visser")).to_have_count(1)
    shot(page, "filtered-on-low-performer")

    page.get_by_role("link", name="Teams and who rated whom").click()
    expect(page.get_by_role("heading", name="Team Noord")).to_be_visible()
    noord = page.locator("section.team", has_text="Team Noord")
    expect(noord.locator("table.matrix tbody tr")).to_have_count(4)
    expect(noord.locator("table.matrix td.cell:not(.empty)")).to_have_count(16)  # 12 peer ratings and 4 self
    expect(noord.locator(".state.completed")).to_have_text("reliable")
    shot(page, "teams")


def test_a_phone_shows_the_team_page_without_sideways_scrolling_of_the_page(web_app_without_worker, browser, shot):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US")
    page = context.new_page()
    sign_in(page, web_app_without_worker, "docent@example.com")
    page.goto(web_app_without_worker.url("/evaluations/56/teams"))
    expect(page.get_by_role("heading", name="Teams")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    shot(page, "teams-on-a-phone")
    context.close()
