"""The outbox: what peerdigest mails to whom (a reminder, a released summary, a sign-in link), as `outgoing_mail` rows.

A mail row is written in the same transaction as its cause (the reminder, the
approval), so a mail exists exactly when its cause does; `queue/mail.py` hands
it to SMTP_URL afterwards and records the outcome on the row. Without SMTP_URL
nothing is sent, and the teacher's mail page lists the rows with their links.

Each mail is written in its reader's language (their own setting, else their
school's) and carries a link that lands them signed in on the page it is about:
a one-time sign-in link in the `dev` and `token` modes, the page itself in
`proxy` mode (where the proxy signs people in).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from peerdigest.config import AuthMode, Settings
from peerdigest.db.models import Evaluation, OutgoingMail, User, utcnow
from peerdigest.domain import sign_in_links
from peerdigest.domain.release import released
from peerdigest.domain.submissions import State, progress
from peerdigest.domain.summaries import stored_summaries
from peerdigest.i18n import _, format_datetime, use_language

REMINDER = "reminder"
RELEASED = "released"
SIGN_IN = "sign_in"
# At most one sign-in mail per person this often, whoever asks: the form is open to anyone.
SIGN_IN_MAIL_EVERY = timedelta(minutes=5)

# Where a mail's link leads once signed in: the student's form of the evaluation, their summaries.
FORM_PATH = "/my-evaluations/{evaluation_id}"
SUMMARIES_PATH = "/my-summaries"


def link(session: Session, settings: Settings, user: User, next_path: str) -> str:
    """The address a mail gives `user` to reach `next_path` signed in."""
    if settings.auth_mode == AuthMode.proxy:
        return settings.public_url + next_path
    created = sign_in_links.create(session, user, next_path, timedelta(hours=settings.sign_in_link_hours))
    return settings.public_url + created.path


def language_of(user: User) -> str:
    return user.language or user.school.language


def not_submitted(session: Session, evaluation: Evaluation) -> list[User]:
    """The reviewers who have not submitted yet (not started or partway): whom a reminder goes to."""
    return [row.reviewer for row in progress(session, evaluation)
            if row.state != State.submitted and row.reviewer.disabled_at is None]


def reminders(
    session: Session, settings: Settings, evaluation: Evaluation, not_reminded_since: datetime | None = None
) -> list[OutgoingMail]:
    """A reminder to each reviewer who has not submitted the evaluation's form yet; with `not_reminded_since`,
    only to those who got no reminder of this evaluation since then (the automatic one after one sent by hand)."""

    def words(url: str) -> tuple[str, list[str]]:
        lines = [_("You have not submitted your feedback for %(title)s yet.", title=evaluation.title)]
        if evaluation.deadline:
            closes = format_datetime(evaluation.deadline, evaluation.school.time_zone)
            lines.append(_("The form closes on %(closes)s.", closes=closes))
        lines += ["", _("Open your form (the link signs you in):"), url]
        return _("Reminder: your feedback for %(title)s", title=evaluation.title), lines

    reminded = set() if not_reminded_since is None else set(session.scalars(
        select(OutgoingMail.user_id).where(
            OutgoingMail.kind == REMINDER,
            OutgoingMail.evaluation_id == evaluation.id,
            OutgoingMail.created_at >= not_reminded_since,
        )
    ))
    path = FORM_PATH.format(evaluation_id=evaluation.id)
    return [_write(session, settings, user, evaluation, REMINDER, path, words)
            for user in not_submitted(session, evaluation) if user.id not in reminded]


def summaries_released(
    session: Session, settings: Settings, evaluation: Evaluation, student_ids: list[int] | None = None
) -> list[OutgoingMail]:
    """A mail to each of the students (None: all of the evaluation's) whose summary they may read now
    (`release.released`) and who was not told before: one such mail per student and evaluation,
    so approving again, editing or a summary rewritten later sends nothing more."""
    summaries = stored_summaries(session, evaluation.id, student_ids)
    told = set(
        session.scalars(
            select(OutgoingMail.user_id).where(OutgoingMail.kind == RELEASED, OutgoingMail.evaluation_id == evaluation.id)
        )
    )
    readable = sorted(student_id for student_id, summary in summaries.items()
                      if student_id not in told and released(evaluation, summary))
    if not readable:
        return []

    def words(url: str) -> tuple[str, list[str]]:
        return _("Your feedback summary for %(title)s is ready", title=evaluation.title), [
            _("The summary of the feedback your teammates gave you in %(title)s is ready to read.", title=evaluation.title),
            "",
            _("Read it here (the link signs you in):"),
            url,
        ]

    students = session.scalars(select(User).where(User.id.in_(readable), User.disabled_at.is_(None)).order_by(User.id))
    return [_write(session, settings, student, evaluation, RELEASED, SUMMARIES_PATH, words) for student in students]


def sign_in(session: Session, settings: Settings, email: str, next_path: str) -> OutgoingMail | None:
    """A mail with a one-time sign-in link to the person with this address (asked on the sign-in page);
    None for an unknown or disabled address, or one sent a link less than SIGN_IN_MAIL_EVERY ago."""
    user = session.scalar(select(User).where(User.email == email.strip().lower(), User.disabled_at.is_(None)))
    if user is None:
        return None
    recent = session.scalar(
        select(OutgoingMail.id).where(
            OutgoingMail.kind == SIGN_IN,
            OutgoingMail.user_id == user.id,
            OutgoingMail.created_at > utcnow() - SIGN_IN_MAIL_EVERY,
        ).limit(1)
    )
    if recent is not None:
        return None

    def words(url: str) -> tuple[str, list[str]]:
        return _("Your sign-in link for peerdigest"), [
            _("Someone (we hope you) asked to sign in to peerdigest with this address. This link signs you in once, "
              "within %(hours)s hours:", hours=f"{settings.sign_in_link_hours:g}"),
            url,
            "",
            _("Did you not ask for it? Then you can ignore this mail."),
        ]

    return _write(session, settings, user, None, SIGN_IN, next_path, words)


def _write(
    session: Session,
    settings: Settings,
    user: User,
    evaluation: Evaluation | None,
    kind: str,
    next_path: str,
    words: Callable[[str], tuple[str, list[str]]],
) -> OutgoingMail:
    """One mail to `user`, in their language: a greeting, then `words(link)` (the subject and the lines)."""
    with use_language(language_of(user)):
        url = link(session, settings, user, next_path)
        subject, lines = words(url)
        body = "\n".join([_("Hello %(name)s,", name=user.name), "", *lines]) + "\n"
    mail = OutgoingMail(
        school_id=user.school_id,
        evaluation_id=evaluation.id if evaluation is not None else None,
        user_id=user.id,
        kind=kind,
        to_address=user.email,
        subject=subject,
        body=body,
        link=url,
        created_at=utcnow(),
        attempts=0,
    )
    session.add(mail)
    session.flush()
    return mail


def outbox(session: Session, evaluation: Evaluation) -> list[OutgoingMail]:
    """The evaluation's mail, the unsent first (oldest first), then the sent (newest first)."""
    mails = session.scalars(
        select(OutgoingMail).where(OutgoingMail.evaluation_id == evaluation.id).order_by(OutgoingMail.id)
    ).all()
    unsent = [mail for mail in mails if mail.sent_at is None]
    sent = sorted((mail for mail in mails if mail.sent_at is not None), key=lambda mail: mail.sent_at, reverse=True)
    return unsent + sent


def lost(session: Session, settings: Settings, now: datetime, grace: timedelta) -> list[int]:
    """Ids of unsent mail with attempts left, written more than `grace` ago: candidates to queue again.

    Mail older than a sign-in link's lifetime is left alone: its link has expired, so sending
    it (say, once SMTP_URL is set weeks later) would only confuse.
    """
    return list(
        session.scalars(
            select(OutgoingMail.id)
            .where(
                OutgoingMail.sent_at.is_(None),
                OutgoingMail.attempts < settings.mail_max_attempts,
                OutgoingMail.created_at < now - grace,
                OutgoingMail.created_at > now - timedelta(hours=settings.sign_in_link_hours),
            )
            .order_by(OutgoingMail.id)
        )
    )
