"""Review before release, for teachers: read each summary beside its flagged comments, edit, approve; print.

Plain forms that post back and land on the same page with a notice, so review
works without JavaScript; the access rules and the review itself are the
API's (`api/deps.py`, `domain/review.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from peerdigest.api.deps import CurrentUser, OwnStudent, RedisDep, SessionDep, SettingsDep, StaffEvaluation, StaffUser
from peerdigest.api.streaming import StoppingStream
from peerdigest.db.models import Evaluation, FeedbackSummary, Release, User
from peerdigest.db.session import API_BUSY_TIMEOUT, after_commit, session_factory
from peerdigest.domain import mail, release, review
from peerdigest.domain.evaluations import update_evaluation
from peerdigest.domain.exporter import MEDIA_TYPES, ExportCopy, ExportFormat, ScreenNotice, class_list, export
from peerdigest.domain.feedback import anonymize, collect, evaluation_students
from peerdigest.domain.flags import Flag
from peerdigest.domain.insights import Rules
from peerdigest.domain.summaries import stored_summaries, stored_summary
from peerdigest.i18n import N_, _, translate
from peerdigest.queue.mail import announce
from peerdigest.web.pages import page_router, redirect, render

router = page_router()

CONCERNS = {"self_harm": N_("about self-harm"), "threat": N_("threatening"), "offensive": N_("offensive")}


@dataclass(frozen=True)
class StudentReview:
    student: User
    summary: FeedbackSummary | None
    released: bool
    flagged: list[tuple[str, Flag]]  # comment text (names replaced) and why it is flagged
    approved_by: str | None
    edited_by: str | None


def _students(session, evaluation: Evaluation) -> list[StudentReview]:
    ids = evaluation_students(session, evaluation.id)
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))}
    summaries = stored_summaries(session, evaluation.id)
    names = {u.id: u.name for u in session.scalars(select(User).where(User.school_id == evaluation.school_id))}
    counts = review.flag_counts(session, evaluation)
    rows = []
    for student in sorted(users.values(), key=lambda u: (u.name.lower(), u.id)):
        summary = summaries.get(student.id)
        flagged = []
        if counts[student.id]:
            comments = anonymize(collect(session, evaluation.id, student.id)).comments
            flagged = [(c.text, f) for c, f in review.flagged(comments, evaluation.language) if f is not None]
        rows.append(
            StudentReview(
                student=student,
                summary=summary,
                released=release.released(evaluation, summary),
                flagged=flagged,
                approved_by=names.get(summary.approved_by_id) if summary and summary.approved_by_id else None,
                edited_by=names.get(summary.edited_by_id) if summary and summary.edited_by_id else None,
            )
        )
    return rows


@router.get("/evaluations/{evaluation_id}/review")
def review_page(evaluation: StaffEvaluation, request: Request, user: CurrentUser, session: SessionDep):
    students = _students(session, evaluation)
    waiting = sum(1 for s in students if s.summary is not None and s.summary.approved_at is None)
    return render(
        request,
        "review.html",
        user=user,
        evaluation=evaluation,
        students=students,
        waiting=waiting,
        under_review=evaluation.release == Release.after_review,
        concerns=CONCERNS,
    )


def _back(evaluation_id: int, student_id: int | None = None, back: str | None = None) -> str:
    """Where a form lands after it is sent: the review page at the student, or (`back=detail`) their detail page."""
    if back == "detail" and student_id:
        return f"/evaluations/{evaluation_id}/students/{student_id}"
    return f"/evaluations/{evaluation_id}/review" + (f"#student-{student_id}" if student_id else "")


@router.post("/evaluations/{evaluation_id}/review/{student_id}")
def approve_summary(
    user: StaffUser,
    asked: OwnStudent,
    session: SessionDep,
    settings: SettingsDep,
    redis: RedisDep,
    summary_text: Annotated[str | None, Form()] = None,
    back: Annotated[str | None, Form()] = None,
):
    evaluation, student_id = asked.evaluation, asked.student_id
    summary = stored_summary(session, evaluation.id, student_id)
    name = session.get(User, student_id).name
    landing = _back(evaluation.id, student_id, back)
    if summary is None:
        return redirect(landing, _("%(name)s has no summary yet to approve.", name=name), error=True)
    try:
        before = summary.summary_text
        review.edit_and_approve(summary, summary_text if summary_text is not None else summary.summary_text, user)
    except review.ReviewError as exc:
        return redirect(landing, f"{name}: {translate(exc.args[0])}", error=True)
    mails = mail.summaries_released(session, settings, evaluation, [student_id])
    after_commit(session, lambda: announce(redis, settings, mails))
    if summary.summary_text != before:
        return redirect(landing, _("Saved your edit and approved the summary of %(name)s; they can read it now.", name=name))
    return redirect(landing, _("Approved the summary of %(name)s; they can read it now.", name=name))


@router.post("/evaluations/{evaluation_id}/review")
def approve_all(evaluation: StaffEvaluation, user: CurrentUser, session: SessionDep, settings: SettingsDep, redis: RedisDep):
    approved = review.approve_all_completed(session, evaluation, user)
    mails = mail.summaries_released(session, settings, evaluation, [summary.student_id for summary in approved])
    after_commit(session, lambda: announce(redis, settings, mails))
    if not approved:
        return redirect(_back(evaluation.id), _("Every written summary was approved already."))
    return redirect(_back(evaluation.id), _("Approved %(count)s summaries; those students can read them now.",
                                            count=len(approved)))


@router.post("/evaluations/{evaluation_id}/release")
def change_release(
    evaluation: StaffEvaluation, session: SessionDep, settings: SettingsDep, redis: RedisDep,
    mode: Annotated[Release, Form()],
):
    update_evaluation(session, evaluation, {"release": mode})
    mails = mail.summaries_released(session, settings, evaluation)  # made automatic: each student is told
    after_commit(session, lambda: announce(redis, settings, mails))
    told = (
        _("Students now read each summary as soon as it is written.")
        if mode == Release.automatic
        else _("Students now read a summary only after you approved it.")
    )
    return redirect(_back(evaluation.id), told)


@router.get("/evaluations/{evaluation_id}/print", response_class=HTMLResponse)
def print_view(
    evaluation: StaffEvaluation,
    session: SessionDep,
    settings: SettingsDep,
    copy: ExportCopy = ExportCopy.student,
):
    """The class on paper: the same document as the html export, shown in the browser to print (and,
    like the export, streamed a batch of students at a time).

    While some students have no released summary, the screen says so above the sheets (a warning,
    not a block: a teacher may print the others now); the paper never shows it.
    """
    students = len(evaluation_students(session, evaluation.id))
    waiting = students - release.released_count(session, evaluation)
    notice = None
    if waiting:
        notice = ScreenNotice(
            _("%(waiting)s of %(total)s students have no approved summary yet: the student copy gives them a page "
              "without one.", waiting=waiting, total=students),
            f"/evaluations/{evaluation.id}/review", _("Review them first, or print the others now."),
        )
    listed = class_list(session, evaluation, copy)
    session.close()  # as the export's route: the stream reads in sessions of its own
    sessions = session_factory(settings.database_url, API_BUSY_TIMEOUT)
    return StoppingStream(
        export(listed, sessions, ExportFormat.html, Rules.from_settings(settings), notice=notice),
        media_type=MEDIA_TYPES[ExportFormat.html],
    )
