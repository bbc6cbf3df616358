"""Teacher pages while an evaluation collects: who has submitted (live), reminders, and the evaluation's mail.

The progress page draws every reviewer's state per team and asks
`.../progress.json` every few seconds for changes (plain polling: it holds no
database connection between looks). *Send reminder* first shows whom it
reaches; the reminders are written to the outbox and handed to the mail
server; without SMTP_URL the Mail page lists them with their links.
"""

from __future__ import annotations

from collections import Counter

from fastapi import Request
from fastapi.responses import JSONResponse

from peerdigest import i18n
from peerdigest.api.deps import CurrentUser, RedisDep, SessionDep, SettingsDep, StaffEvaluation
from peerdigest.db.session import after_commit
from peerdigest.domain import mail
from peerdigest.domain.submissions import ReviewerProgress, State, progress
from peerdigest.i18n import N_, _, ngettext
from peerdigest.queue.mail import announce
from peerdigest.web.pages import page_language, page_router, redirect, render

router = page_router()

# How the teacher's page names each state (translated where shown).
STATE_LABELS = {State.not_started: N_("has not started"), State.partway: N_("is partway"),
                State.submitted: N_("has submitted")}


def _by_team(rows: list[ReviewerProgress]) -> dict[str | None, list[ReviewerProgress]]:
    teams: dict[str | None, list[ReviewerProgress]] = {}
    for row in rows:
        teams.setdefault(row.team, []).append(row)
    return teams


def _counts(rows: list[ReviewerProgress]) -> dict[str, int]:
    counted = Counter(row.state for row in rows)
    return {state.value: counted[state] for state in State}


@router.get("/evaluations/{evaluation_id}/progress")
def progress_page(evaluation: StaffEvaluation, request: Request, user: CurrentUser, session: SessionDep):
    rows = progress(session, evaluation)
    return render(request, "progress.html", user=user, evaluation=evaluation,
                  teams=_by_team(rows), counts=_counts(rows), labels=STATE_LABELS)


@router.get("/evaluations/{evaluation_id}/progress.json", response_class=JSONResponse)
def progress_now(evaluation: StaffEvaluation, request: Request, user: CurrentUser, session: SessionDep) -> dict:
    """Every reviewer's state as the page shows it (labels and times written out), and the counts."""
    rows = progress(session, evaluation)
    zone = user.school.time_zone
    with i18n.use_language(page_language(request, user)):
        return {
            "counts": _counts(rows),
            "reviewers": [
                {
                    "user_id": row.reviewer.id,
                    "state": row.state.value,
                    "label": _(STATE_LABELS[row.state]),
                    "saved_at": i18n.format_datetime(row.saved_at, zone),
                    "submitted_at": i18n.format_datetime(row.submitted_at, zone),
                }
                for row in rows
            ],
        }


@router.get("/evaluations/{evaluation_id}/remind")
def confirm_reminder(evaluation: StaffEvaluation, request: Request, user: CurrentUser, session: SessionDep):
    return render(request, "remind.html", user=user, evaluation=evaluation,
                  recipients=mail.not_submitted(session, evaluation))


@router.post("/evaluations/{evaluation_id}/remind")
def send_reminder(
    evaluation: StaffEvaluation, session: SessionDep, settings: SettingsDep, redis: RedisDep
):
    back = f"/evaluations/{evaluation.id}/progress"
    mails = mail.reminders(session, settings, evaluation)
    if not mails:
        return redirect(back, _("Everyone has submitted; no reminder was needed."))
    after_commit(session, lambda: announce(redis, settings, mails))
    written = ngettext("Reminder written to %(num)d student.", "Reminder written to %(num)d students.", len(mails))
    if not settings.smtp_url:
        return redirect(f"/evaluations/{evaluation.id}/mail",
                        written + " " + _("No mail server is set up (SMTP_URL): send these by hand."))
    return redirect(back, written + " " + _("It is on its way."))


@router.get("/evaluations/{evaluation_id}/mail")
def mail_page(
    evaluation: StaffEvaluation, request: Request, user: CurrentUser, session: SessionDep, settings: SettingsDep
):
    return render(request, "mail.html", user=user, evaluation=evaluation, mails=mail.outbox(session, evaluation),
                  smtp=bool(settings.smtp_url), max_attempts=settings.mail_max_attempts)
