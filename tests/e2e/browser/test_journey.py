"""The whole way in a real browser, in Dutch and in English: a teacher makes an evaluation from an Excel class list,
three students rate each other on their phones (one leaves halfway and comes back, one comes in by the link in the
reminder mail, whose scanner opened it first), the teacher closes it on its times page, summaries are written, the
teacher releases them and a student reads theirs.

The API, a worker and the scheduler run as real processes; mail goes to a real SMTP server (aiosmtpd).
What the test expects to read on a page comes from the same catalogue the page is written from
(`words`), so each step also proves the page speaks the browser's language.
"""

from __future__ import annotations

import io
import time
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from openpyxl import Workbook
from playwright.sync_api import expect

from peerdigest import i18n
from peerdigest.dev.embedded_redis import free_port
from tests.e2e.browser.conftest import _started
from tests.support.browser import Screenshots, sign_in
from tests.support.smtp import MailServer, mail_server  # noqa: F401 (fixture)

pytestmark = pytest.mark.slow

LOCALES = {"nl": "nl-NL", "en": "en-US"}
TITLES = {"nl": "Projectweek 3B", "en": "Project week 3B"}
CREATED = {"nl": "Projectweek 3B gemaakt: 3 leerlingen in 1 team (3 nieuw op school).",
           "en": "Created Project week 3B: 3 students in 1 team (3 new to the school)."}
COMMENTS = {  # (who writes, about whom): what, in the evaluation's language
    "nl": {("sanne", "Mohammed El Amrani"): "Mohammed denkt mee en komt zijn afspraken na.",
           ("mohammed", "Sanne Bakker"): "Sanne plant alles goed en helpt als iemand vastloopt.",
           ("lisa", "Sanne Bakker"): "Sanne houdt het overzicht."},
    "en": {("sanne", "Mohammed El Amrani"): "Mohammed thinks along and keeps his promises.",
           ("mohammed", "Sanne Bakker"): "Sanne plans everything well and helps when someone is stuck.",
           ("lisa", "Sanne Bakker"): "Sanne keeps the overview."},
}
TEACHER = "docent@example.com"
CLASS = [
    ("Sanne Bakker", "sanne.bakker@zonnecollege.example", "Team Noord"),
    ("Mohammed El Amrani", "mohammed.el.amrani@zonnecollege.example", "Team Noord"),
    ("Lisa Jansen", "lisa.jansen@zonnecollege.example", "Team Noord"),
]
SANNE, MOHAMMED, LISA = (email for _name, email, _team in CLASS)
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESK = {"viewport": {"width": 1100, "height": 800}}
# A mail is written before anyone opens a browser: in the reader's own language if they chose one, else the
# school's (the demo school's is Dutch), whatever the browser asks for.
MAIL_LANGUAGE = "nl"
WAIT = 90_000  # ms: summaries wait for the scheduler's next look and the worker


def words(language: str, text: str, **values) -> str:
    """`text` as the pages write it in `language`."""
    with i18n.use_language(language):
        return i18n._(text, **values)


def class_list_xlsx() -> bytes:
    """The class list as a teacher exports it from Excel: a header row, then one student a row."""
    book = Workbook()
    sheet = book.active
    sheet.append(["Naam", "E-mail", "Team"])
    for row in CLASS:
        sheet.append(list(row))
    content = io.BytesIO()
    book.save(content)
    return content.getvalue()


def mail_to(server: MailServer, address: str, subject: str):
    """The message to `address` with this subject, once the worker has handed it to the server."""
    give_up = time.monotonic() + WAIT / 1000
    while not (found := [m for m in server.to(address) if m["Subject"] == subject]):
        assert time.monotonic() < give_up, f"no {subject!r} to {address}: {[m['Subject'] for m in server.messages]}"
        time.sleep(0.2)
    (message,) = found
    return message


def link_in(message) -> str:
    body = message.get_body(("plain",)).get_content()
    return next(word for word in body.split() if "/sign-in/link/" in word)


@pytest.fixture
def journey_app(process_demo_school, mail_server):  # noqa: F811 (the fixture imported above)
    """The demo school behind a real API, worker and scheduler, its mail going to `mail_server`."""
    port = free_port()
    settings = process_demo_school.model_copy(update={
        "smtp_url": mail_server.url, "public_url": f"http://127.0.0.1:{port}", "scheduler_interval": 1.0,
    })
    app = _started(settings, worker=True, scheduler=True, port=port)
    yield app
    app.stop()


@pytest.fixture
def new_page(browser, language):
    """`new_page(PHONE)`: a page in a browser of its own (no cookies shared) that asks for `language`."""
    contexts = []

    def opened(size: dict):
        context = browser.new_context(locale=LOCALES[language], **size)  # the locale sets Accept-Language
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield opened
    for context in contexts:
        context.close()


@pytest.mark.parametrize("language", ["nl", "en"])
def test_from_a_class_list_to_released_summaries(language, journey_app, mail_server, new_page, tmp_path, request):  # noqa: F811
    app, shot, title = journey_app, Screenshots(request.node.name), TITLES[language]

    def t(text: str, **values) -> str:
        return words(language, text, **values)

    # 1. The teacher makes the evaluation from the class list, closing in ten minutes, the reminder due at once.
    teacher = new_page(DESK)
    sign_in(teacher, app, TEACHER)
    teacher.get_by_role("link", name=t("New evaluation")).click()
    expect(teacher.get_by_role("heading", name=t("New evaluation"))).to_be_visible()
    closes = (datetime.now(timezone.utc) + timedelta(minutes=10)).astimezone(i18n.zone("Europe/Amsterdam"))
    teacher.get_by_label(t("Title")).fill(title)
    teacher.locator("#language").select_option(language)
    teacher.locator("#closes-date").fill(closes.strftime("%Y-%m-%d"))
    teacher.get_by_label(t("Closes at")).fill(closes.strftime("%H:%M"))
    teacher.locator("#remind").fill("1")
    class_file = tmp_path / ("klas.xlsx" if language == "nl" else "class.xlsx")
    class_file.write_bytes(class_list_xlsx())
    teacher.locator("#class-file").set_input_files(class_file)
    shot(teacher, "new-evaluation")
    teacher.get_by_role("button", name=t("Create the evaluation")).click()
    expect(teacher.locator("#notice")).to_have_text(CREATED[language])
    evaluation_id = int(teacher.url.rstrip("/").rsplit("/", 1)[1])
    expect(teacher.get_by_role("heading", name=title)).to_be_visible()
    shot(teacher, "evaluation-created")

    # 2. Sanne fills in the whole form on her phone and submits.
    sanne = new_page(PHONE)
    sign_in(sanne, app, SANNE)
    expect(sanne.get_by_role("heading", name=t("My evaluations"))).to_be_visible()
    own = sanne.locator(f'.own-evaluation[data-evaluation="{evaluation_id}"]')
    expect(own.locator(".state")).to_have_text(t("not started"))
    shot(sanne, "student-my-evaluations")
    own.get_by_role("link", name=t("Start")).click()
    expect(sanne.get_by_role("heading", name=title)).to_be_visible()
    _answer_every_criterion(sanne, score="4")
    _card(sanne, "Mohammed El Amrani").locator("textarea").first.fill(COMMENTS[language]["sanne", "Mohammed El Amrani"])
    expect(sanne.locator("#form-state")).to_have_text(t("partway"))  # saved as she goes
    sanne.evaluate("window.scrollTo(0, 0)")
    shot(sanne, "student-form", full_page=False)
    sanne.get_by_role("button", name=t("Submit"), exact=True).click()
    expect(sanne.locator(".confirmation").get_by_role("heading", name=t("Submitted"))).to_be_visible()
    shot(sanne, "student-submitted")

    # Mohammed rates one teammate, closes the page halfway, and finds his answers when he comes back.
    mohammed = new_page(PHONE)
    sign_in(mohammed, app, MOHAMMED)
    mohammed.goto(app.url(f"/my-evaluations/{evaluation_id}"))
    half_words = COMMENTS[language]["mohammed", "Sanne Bakker"]
    _answer_every_criterion(_card(mohammed, "Sanne Bakker"), score="5")
    _card(mohammed, "Sanne Bakker").locator("textarea").first.fill(half_words)
    expect(mohammed.locator("#form-state")).to_have_text(t("partway"))
    shot(mohammed, "student-halfway", full_page=False)
    context = mohammed.context
    mohammed.close(run_before_unload=True)

    # The reminder the scheduler wrote at once (an hour before closing is now) reached Lisa. Her mail's scanner
    # opens the link first; her own browser, which never saw the app, shows a Sign in button that opens her form.
    reminder = mail_to(mail_server, LISA, words(MAIL_LANGUAGE, "Reminder: your feedback for %(title)s", title=title))
    assert httpx.get(link_in(reminder)).status_code == 200  # a scanner's look uses nothing up
    lisa = new_page(PHONE)
    lisa.goto(link_in(reminder))
    expect(lisa.get_by_role("heading", name=t("Sign in as %(name)s", name="Lisa Jansen"))).to_be_visible()
    shot(lisa, "sign-in-link")
    lisa.get_by_role("button", name=t("Sign in")).click()
    expect(lisa).to_have_url(app.url(f"/my-evaluations/{evaluation_id}"))
    expect(lisa.get_by_role("heading", name=title)).to_be_visible()
    shot(lisa, "student-from-the-reminder-link", full_page=False)
    forwarded = new_page(PHONE)  # the same mail opened again, or by someone it was forwarded to
    forwarded.goto(link_in(reminder))
    expect(forwarded.get_by_role("heading", name=t("This link no longer works"))).to_be_visible()
    expect(forwarded.get_by_text(t("This sign-in link was used already; each link works once. Please sign in."))).to_be_visible()
    shot(forwarded, "reminder-link-used-twice")

    teacher.goto(app.url(f"/evaluations/{evaluation_id}/progress"))
    expect(teacher.locator('[data-count="submitted"]')).to_have_text("1")
    expect(teacher.locator('[data-count="partway"]')).to_have_text("1")
    expect(teacher.locator('[data-count="not_started"]')).to_have_text("1")
    expect(teacher.get_by_role("row", name="Mohammed El Amrani")).to_contain_text(t("is partway"))
    shot(teacher, "progress")

    _answer_every_criterion(lisa, score="3")
    _card(lisa, "Sanne Bakker").locator("textarea").first.fill(COMMENTS[language]["lisa", "Sanne Bakker"])
    lisa.get_by_role("button", name=t("Submit"), exact=True).click()
    expect(lisa.locator(".confirmation").get_by_role("heading", name=t("Submitted"))).to_be_visible()

    mohammed = context.new_page()
    mohammed.goto(app.url("/my-evaluations"))
    own = mohammed.locator(f'.own-evaluation[data-evaluation="{evaluation_id}"]')
    expect(own.locator(".state")).to_have_text(t("partway"))
    own.get_by_role("link", name=t("Continue")).click()
    expect(_card(mohammed, "Sanne Bakker").locator('input[type="radio"]:checked')).to_have_count(4)
    expect(_card(mohammed, "Sanne Bakker").locator("textarea").first).to_have_value(half_words)
    expect(_card(mohammed, "Lisa Jansen").locator('input[type="radio"]:checked')).to_have_count(0)
    _answer_every_criterion(_card(mohammed, "Lisa Jansen"), score="4")
    mohammed.get_by_role("button", name=t("Submit"), exact=True).click()
    expect(mohammed.locator(".confirmation").get_by_role("heading", name=t("Submitted"))).to_be_visible()

    expect(teacher.locator('[data-count="submitted"]')).to_have_text("3")  # the page follows by itself
    shot(teacher, "progress-everyone-submitted")

    # 3. Everyone has submitted, so the teacher closes it now on its times page rather than waiting for the close.
    teacher.goto(app.url(f"/evaluations/{evaluation_id}"))
    teacher.get_by_role("link", name=t("Times and reminder")).click()
    expect(teacher.locator("#closes-date")).to_have_value(closes.strftime("%Y-%m-%d"))
    shot(teacher, "times")
    teacher.get_by_role("button", name=t("Close now")).click()
    expect(teacher.locator("#notice")).to_have_text(
        t("Closed: students can no longer change their answers. The scheduler queues their summaries shortly."))
    expect(teacher.locator('#students tr[data-state="completed"]')).to_have_count(3, timeout=WAIT)
    shot(teacher, "summaries-written")

    # 4. The teacher reads and releases them; the students are told by mail, and Sanne reads hers.
    teacher.goto(app.url(f"/evaluations/{evaluation_id}/review"))
    expect(teacher.locator(".review-student")).to_have_count(3)
    expect(teacher.locator(".review-student textarea")).to_have_count(3)
    shot(teacher, "review")
    teacher.get_by_role("button", name=t("Approve all completed (%(count)s waiting)", count=3)).click()
    expect(teacher.locator("#notice")).to_contain_text(
        t("Approved %(count)s summaries; those students can read them now.", count=3))
    shot(teacher, "released")

    released = mail_to(mail_server, SANNE,
                       words(MAIL_LANGUAGE, "Your feedback summary for %(title)s is ready", title=title))
    sanne = new_page(PHONE)
    sanne.goto(link_in(released))
    sanne.get_by_role("button", name=t("Sign in")).click()
    expect(sanne).to_have_url(app.url("/my-summaries"))
    summary = sanne.locator(f'section.own-summary[data-evaluation="{evaluation_id}"]')
    expect(summary.get_by_role("heading", name=title)).to_be_visible()
    expect(summary.locator(".summary-text")).not_to_be_empty()
    expect(summary.get_by_text(t("There is no summary for you yet."))).to_have_count(0)
    shot(sanne, "student-reads-the-summary")

    sanne.goto(app.url(f"/my-evaluations/{evaluation_id}"))
    expect(sanne.get_by_text(t("This evaluation is closed: your answers can no longer be changed."))).to_be_visible()


def _card(page, name: str):
    """The form's card of one teammate."""
    return page.locator("section.person", has=page.get_by_role("heading", name=name, exact=True))


def _answer_every_criterion(within, score: str) -> None:
    """Tap `score` on every criterion of every teammate shown `within` (a page or one teammate's card)."""
    for fieldset in within.locator("fieldset.criterion").all():
        fieldset.locator(f'input[type="radio"][value="{score}"]').check()
