"""A school from zero and its people in a real browser: the installation's administrator creates a school whose
admin signs in at once; a school admin is asked before a student becomes a teacher, and removing a teacher ends
their access (listed with who and when) without deleting them."""

from playwright.sync_api import expect

from tests.support.browser import sign_in


def test_an_operator_starts_a_school_and_its_admin_signs_in(web_app_for_operators, page, shot):
    app = web_app_for_operators
    sign_in(page, app, "admin@example.com")
    page.get_by_role("link", name="Schools").click()
    expect(page.locator("#schools")).to_contain_text("Demo College")
    page.get_by_label("Name of the school").fill("Lindeschool")
    page.get_by_label("Name", exact=True).fill("Kees Bakker")
    page.get_by_label("Email").fill("kees@lindeschool.example")
    page.get_by_role("button", name="Create the school").click()
    expect(page.locator("#created")).to_contain_text("Lindeschool is ready")
    expect(page.locator("#created")).to_contain_text("choosing their name on the sign-in page")
    expect(page.locator("#schools tbody tr", has_text="Lindeschool")).to_contain_text("Europe/Amsterdam")
    shot(page, "school-created")

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, app, "kees@lindeschool.example")
    expect(page.get_by_role("heading", name="Evaluations of Lindeschool")).to_be_visible()
    expect(page.get_by_role("link", name="Teachers")).to_be_visible()


def test_a_school_admin_is_asked_before_promoting_a_student_and_removing_a_teacher_deletes_nobody(
    web_app, page, shot
):
    sign_in(page, web_app, "admin@example.com")
    page.get_by_role("link", name="Teachers").click()
    page.get_by_label("Name", exact=True).fill("Jan")
    page.get_by_label("Email").fill("jan@example.com")
    page.get_by_role("button", name="Add teacher").click()
    expect(page.get_by_role("heading", name="Make a student a teacher?")).to_be_visible()
    expect(page.locator("#promotion")).to_contain_text("contribution factor and labels")
    expect(page.locator("#promotion")).to_contain_text("flagged as offensive, threatening or about self-harm")
    shot(page, "promotion-asked")
    page.get_by_role("link", name="Cancel").click()
    expect(page.locator("#staff")).not_to_contain_text("jan@example.com")

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#staff tbody tr", has_text="docent@example.com").get_by_role("button", name="Remove access").click()
    expect(page.locator("#notice")).to_have_text("Docent Demo can no longer sign in; what they gave and received stays.")
    docent = page.locator("#staff tbody tr", has_text="docent@example.com")
    expect(docent.locator('[data-field="access"]')).to_contain_text("by Admin Demo")
    shot(page, "access-ended")

    page.get_by_role("button", name="Sign out").click()
    page.goto(web_app.url("/sign-in"))
    expect(page.locator('input[name="email"][value="admin@example.com"]')).to_have_count(1)
    expect(page.locator('input[name="email"][value="docent@example.com"]')).to_have_count(0)
