"""A Dutch teacher in a Dutch browser reads Dutch, also in what the page's script writes live, and can switch
to English in the header."""

import re

from playwright.sync_api import expect

from tests.support.browser import sign_in


def test_a_dutch_browser_reads_dutch_live_and_switches_to_english(web_app_without_worker, browser, shot):
    app = web_app_without_worker
    page = browser.new_context(locale="nl-NL", viewport={"width": 1100, "height": 800}).new_page()
    sign_in(page, app, "docent@example.com")
    page.goto(app.url("/evaluations/56"))
    expect(page.get_by_role("heading", name="Projectweek duurzaamheid: peer-evaluatie")).to_be_visible()
    expect(page.locator("#live")).to_have_text("live")
    page.get_by_role("button", name="Ontbrekende maken").click()
    expect(page.locator("#notice")).to_contain_text("Samenvattingen aangevraagd")
    expect(page.locator('#students [data-field="state"] .state.queued').first).to_have_text("in de wachtrij")
    expect(page.locator("#tally")).to_contain_text("in de wachtrij")
    dutch_time = re.compile(r"^\d{1,2} (jan|feb|mrt|apr|mei|jun|jul|aug|sep|okt|nov|dec)\.? \d{4} \d\d:\d\d$")
    expect(page.locator('#students [data-field="updated"]').first).to_have_text(dutch_time)  # written live
    shot(page, "evaluation-in-dutch")

    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("button", name="Generate missing")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    shot(page, "evaluation-in-english")
    page.context.close()
