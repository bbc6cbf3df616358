"""Review before release: teachers approve summaries, as written or edited, and see what waits for them."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status
from sqlalchemy import select

from peerdigest.api.deps import CurrentUser, OwnStudent, RedisDep, SessionDep, SettingsDep, StaffEvaluation, StaffUser
from peerdigest.api.errors import ERRORS, problem
from peerdigest.api.schemas import ApproveAllOut, ApproveIn, ReviewOut, ReviewRow, StoredSummary
from peerdigest.db.models import User
from peerdigest.db.session import after_commit
from peerdigest.domain import mail, release, review
from peerdigest.domain.feedback import evaluation_students
from peerdigest.domain.summaries import stored_summaries, stored_summary
from peerdigest.queue.mail import announce

router = APIRouter(prefix="/api/v1/feedback-summaries", tags=["review before release"])


@router.post(
    "/evaluation/{evaluation_id}/student/{student_id}/approve",
    response_model=StoredSummary,
    responses={**ERRORS, 422: problem("The edited text is empty or too long")},
    summary="Release a student's summary, as written or with your edit (teachers)",
    description="Without a body the stored text is approved; with `summary_text` the text is replaced and approved "
    "in one step. Who approved and edited, and when, is recorded and shown in the summary.",
)
def approve(
    user: StaffUser, asked: OwnStudent, session: SessionDep, settings: SettingsDep, redis: RedisDep,
    body: ApproveIn | None = None,
) -> StoredSummary:
    evaluation, evaluation_id, student_id = asked.evaluation, asked.evaluation.id, asked.student_id
    summary = stored_summary(session, evaluation_id, student_id)
    if summary is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Student {student_id} has no summary yet to approve.")
    try:
        if body is not None and body.summary_text is not None:
            review.edit_and_approve(summary, body.summary_text, user)
        else:
            review.approve(summary, user)
    except review.ReviewError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    mails = mail.summaries_released(session, settings, evaluation, [student_id])
    after_commit(session, lambda: announce(redis, settings, mails))
    return StoredSummary.of(summary, session.get(User, student_id).name, release.released(evaluation, summary))


@router.post(
    "/evaluation/{evaluation_id}/approve-all",
    response_model=ApproveAllOut,
    responses=ERRORS,
    summary="Release every written summary of the evaluation that is not approved yet (teachers)",
)
def approve_all(
    evaluation: StaffEvaluation, user: CurrentUser, session: SessionDep, settings: SettingsDep, redis: RedisDep
) -> ApproveAllOut:
    evaluation_id = evaluation.id
    approved = review.approve_all_completed(session, evaluation, user)
    mails = mail.summaries_released(session, settings, evaluation, [summary.student_id for summary in approved])
    after_commit(session, lambda: announce(redis, settings, mails))
    return ApproveAllOut(
        evaluation_id=evaluation_id, approved=len(approved), student_ids=[s.student_id for s in approved]
    )


@router.get(
    "/evaluation/{evaluation_id}/review",
    response_model=ReviewOut,
    responses=ERRORS,
    summary="Every student's summary state for review, with how many flagged comments each received (teachers)",
)
def review_state(evaluation: StaffEvaluation, session: SessionDep) -> ReviewOut:
    evaluation_id = evaluation.id
    student_ids = evaluation_students(session, evaluation_id)
    names = dict(session.execute(select(User.id, User.name).where(User.id.in_(student_ids))).all())
    summaries = stored_summaries(session, evaluation_id)
    flags = review.flag_counts(session, evaluation)
    rows = [
        ReviewRow.of(student_id, names[student_id], summaries.get(student_id), evaluation, flags[student_id])
        for student_id in sorted(student_ids, key=lambda i: (names[i].lower(), i))
    ]
    return ReviewOut(evaluation_id=evaluation_id, release=evaluation.release, students=rows)
