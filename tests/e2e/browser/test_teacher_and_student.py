"""A teacher's afternoon in a real browser: import a class from a file, generate its summaries and watch
them arrive, read one, approve them; then a student of that class signs in and sees their own summary only."""

from playwright.sync_api import expect

from tests.conftest import ROOT
from tests.support.browser import sign_in

EXAMPLE = ROOT / "examples" / "peer-feedback.csv"


def test_import_generate_read_approve_and_a_student_sees_only_their_own_summary(web_app, page, shot, tmp_path):
    sign_in(page, web_app, "docent@example.com")
    page.get_by_role("link", name="Import").click()
    broken = tmp_path / "broken.csv"
    broken.write_text(EXAMPLE.read_text("utf-8").replace(";4;Noah denkt mee", ";9;Noah denkt mee"), "utf-8")
    page.get_by_label("File", exact=True).set_input_files(broken)
    page.get_by_label("Evaluation", exact=True).fill("Projectweek 3B")
    page.get_by_role("button", name="Check the file").click()
    problems = page.locator("#check-result")
    expect(problems).to_contain_text("1 problem in broken.csv")
    expect(problems.locator("tbody tr").first).to_contain_text("2")  # the line of the bad score
    expect(page.get_by_role("button", name="Import")).to_be_disabled()
    shot(page, "import-problems")

    page.get_by_label("File", exact=True).set_input_files(EXAMPLE)
    page.get_by_role("button", name="Check the file").click()
    expect(page.locator("#check-result")).to_contain_text("peer-feedback.csv is ready to import")
    expect(page.locator("#check-result")).to_contain_text("evaluation created")
    shot(page, "import-checked")
    page.get_by_role("button", name="Import").click()

    expect(page.get_by_role("heading", name="Projectweek 3B")).to_be_visible()
    expect(page.locator("#notice")).to_contain_text("Imported peer-feedback.csv")
    expect(page.locator("#live")).to_have_text("live")
    rows = page.locator("#students tbody tr")
    expect(rows).to_have_count(3)
    shot(page, "evaluation-imported")

    page.get_by_role("button", name="Generate all").click()
    expect(page.locator("#notice")).to_contain_text("Summaries asked for: 3 queued")
    # No reload: the states arrive through the events stream.
    expect(rows.locator(".state.completed")).to_have_count(3, timeout=60_000)
    shot(page, "evaluation-completed")

    page.get_by_role("link", name="Emma Visser").click()
    expect(page.get_by_role("heading", name="Emma Visser")).to_be_visible()
    summary = page.locator(".summary-text")
    expect(summary).not_to_be_empty()
    expect(summary).not_to_contain_text("Emma")
    expect(page.locator("table.chart tbody tr")).to_have_count(2)
    expect(page.locator("ul.quotes li")).to_have_count(3)
    shot(page, "student-detail")
    emma_summary = summary.inner_text()

    page.get_by_role("link", name="Projectweek 3B").click()
    evaluation_url = page.url
    page.goto(evaluation_url + "/review")
    page.get_by_role("button", name="Approve all completed (3 waiting)").click()
    expect(page.locator("#notice")).to_contain_text("Approved 3")
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, web_app, "emma@school.example")
    expect(page.get_by_role("heading", name="My evaluations")).to_be_visible()
    page.get_by_role("link", name="My summaries").click()
    expect(page.get_by_role("heading", name="My feedback summaries")).to_be_visible()
    expect(page.locator(".own-summary", has_text="Projectweek 3B").locator(".summary-text")).to_have_text(emma_summary)
    for classmate in ("Noah", "Liam"):
        expect(page.get_by_text(classmate)).to_have_count(0)
    shot(page, "student-own-summaries")


def test_a_teacher_cancels_a_queued_job_from_the_evaluation_page_on_a_phone(web_app_without_worker, phone_page, shot):
    app, page = web_app_without_worker, phone_page
    sign_in(page, app, "docent@example.com")
    page.goto(app.url("/evaluations/56"))
    jan = page.locator("#students tbody tr", has_text="Jan de Vries")
    jan.get_by_role("button", name="Generate").click()
    expect(jan.locator(".state")).to_have_text("queued")
    shot(page, "queued")

    jan.get_by_role("button", name="Cancel").click()
    expect(page.locator("#notice")).to_have_text("Cancelled the summary of Jan de Vries.")
    expect(jan.locator(".state")).to_have_text("cancelled")
    expect(jan.get_by_role("button", name="Regenerate")).to_be_visible()
    shot(page, "cancelled")
