"""Signing in to the web app in a real browser: pick a demo user, land on your start page, sign out."""

from playwright.sync_api import expect

from tests.support.browser import sign_in


def test_the_demo_teacher_signs_in_sees_the_schools_evaluations_and_signs_out(web_app, page, shot):
    page.goto(web_app.url("/"))
    expect(page.get_by_text("Development sign-in")).to_be_visible()
    expect(page.get_by_role("button", name="Docent Demo")).to_be_visible()
    shot(page, "sign-in")

    sign_in(page, web_app, "docent@example.com")
    expect(page.get_by_role("heading", name="Evaluations of Demo College")).to_be_visible()
    expect(page.get_by_role("link", name="Projectweek duurzaamheid: peer-evaluatie")).to_be_visible()
    expect(page.get_by_role("link", name="Science fair: peer review")).to_be_visible()
    shot(page, "evaluations")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="You are signed out")).to_be_visible()
    shot(page, "signed-out")
    page.goto(web_app.url("/evaluations"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
