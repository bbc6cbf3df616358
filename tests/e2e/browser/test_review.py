"""Review before release in a real browser: a teacher edits and approves one summary; its student sees
nothing before and only their own approved text after; the print view has a page per student."""

import re

from playwright.sync_api import expect

from peerdigest.db.session import session_scope
from tests.support.browser import sign_in
from tests.support.feedback import add_comment, store_summary

THREAT = "Ik maak je af als je weer te laat bent."


def test_a_teacher_edits_and_approves_one_summary_and_only_that_student_reads_it(web_app, browser, page, shot):
    with session_scope(web_app.settings.database_url) as session:
        store_summary(session, 56, 19, summary_text="Jan werkt goed samen.")
        store_summary(session, 56, 20, summary_text="Sanne communiceert helder.")
        add_comment(session, 56, reviewer_id=20, reviewee_id=19, text=THREAT)

    sign_in(page, web_app, "jan@example.com")
    page.goto(web_app.url("/my-summaries"))
    jan_56 = page.locator('section.own-summary[data-evaluation="56"]')
    expect(jan_56.get_by_text("There is no summary for you yet.")).to_be_visible()
    shot(page, "student-before-approval")

    teacher = browser.new_context(viewport={"width": 1100, "height": 800}, locale="en-US").new_page()
    sign_in(teacher, web_app, "docent@example.com")
    teacher.goto(web_app.url("/evaluations/56/review"))
    card = teacher.locator("#student-19")
    expect(card.get_by_text("waiting for approval")).to_be_visible()
    expect(card.locator(".flags")).to_contain_text(THREAT)
    expect(teacher.get_by_role("button", name="Approve all completed (2 waiting)")).to_be_enabled()
    shot(teacher, "review")

    card.get_by_role("textbox").fill("Jan werkt goed samen en houdt zich aan de planning.")
    card.get_by_role("button", name="Approve").click()
    expect(teacher.locator("#notice")).to_contain_text("Saved your edit and approved the summary of Jan")
    card = teacher.locator("#student-19")
    expect(card.get_by_text("released", exact=True)).to_be_visible()
    expect(card.locator(".review-trail")).to_contain_text("approved by Docent Demo")
    shot(teacher, "approved")

    page.reload()
    expect(jan_56.get_by_text("Jan werkt goed samen en houdt zich aan de planning.")).to_be_visible()
    body = page.content()
    assert "Sanne communiceert helder." not in body and THREAT not in body
    shot(page, "student-after-approval")

    teacher.goto(web_app.url("/evaluations/56/print"))
    expect(teacher.locator("section.sheet")).to_have_count(8)
    expect(teacher.locator('section.sheet[data-student-id="19"]')).to_contain_text("houdt zich aan de planning")
    expect(teacher.locator('section.sheet[data-student-id="20"]')).to_contain_text("Nog geen samenvatting.")
    shot(teacher, "print-view")
    teacher.emulate_media(media="print")
    expect(teacher.locator(".toolbar")).to_be_hidden()
    shot(teacher, "print-media")
    printed = teacher.pdf(format="A4")  # what the browser's print dialog makes of it
    assert len(re.findall(rb"/Type\s*/Page[^s]", printed)) == 8  # a page per student
    teacher.context.close()
