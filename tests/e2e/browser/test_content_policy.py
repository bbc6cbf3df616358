"""The pages work under their Content-Security-Policy: the browser refuses nothing any page of a teacher loads or runs."""

from playwright.sync_api import expect

from tests.support.browser import sign_in


def test_no_page_of_a_teacher_breaks_its_content_security_policy(web_app_without_worker, page):
    app = web_app_without_worker
    refused = []
    page.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None)
    sign_in(page, app, "docent@example.com")
    for path in ("/evaluations", "/evaluations/56", "/evaluations/56/teams", "/evaluations/56/students/19",
                 "/evaluations/56/review", "/evaluations/56/print", "/evaluations/56/class", "/evaluations/56/progress",
                 "/evaluations/new", "/import", "/my-summaries"):
        page.goto(app.url(path))
        page.wait_for_load_state("networkidle")
    page.goto(app.url("/evaluations/56"))
    # The page's own script still runs: it fills the live states (evaluation.js) from the events stream.
    expect(page.locator("#students tbody tr").first).to_be_visible()
    assert refused == []


def test_no_page_of_a_student_breaks_its_content_security_policy(web_app_without_worker, page):
    app = web_app_without_worker
    refused = []
    page.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None)
    sign_in(page, app, "jan@example.com")
    page.goto(app.url("/my-evaluations"))
    forms = [link.get_attribute("href") for link in page.locator("a[href^='/my-evaluations/']").all()]
    for path in ("/my-summaries", *forms):
        page.goto(app.url(path))
        page.wait_for_load_state("networkidle")
    assert refused == []
