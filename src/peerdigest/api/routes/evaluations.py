"""/api/v1/evaluations: manage evaluations, import feedback files, and let reviewers submit their scores."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, Response, UploadFile, status
from fastapi.responses import JSONResponse
from pydantic import AfterValidator
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from peerdigest.api.deps import (
    CurrentUser,
    ParticipantEvaluation,
    RedisDep,
    SessionDep,
    SettingsDep,
    StaffEvaluation,
    is_staff,
    require_staff,
)
from peerdigest.api.errors import ERRORS as SHARED_ERRORS
from peerdigest.api.errors import problem
from peerdigest.api.schemas import (
    CriterionOut,
    EvaluationIn,
    EvaluationOut,
    EvaluationPatch,
    ImportRejected,
    ImportResult,
    Reviewee,
    ScoresIn,
    ScoresSaved,
)
from peerdigest.config import Language
from peerdigest.db.models import Allocation, Evaluation, User, no_nul, utcnow
from peerdigest.db.session import after_commit, discard_writes
from peerdigest.domain.evaluations import (
    CriterionSpec,
    EvaluationError,
    check_options,
    create_evaluation,
    delete_evaluation,
    evaluations_of,
    update_evaluation,
)
from peerdigest.domain.submissions import NotCollecting, NotYourReviewee, ScoreEntry, save_scores
from peerdigest.domain.feedback import evaluation_members
from peerdigest.domain.importer import Encoding, column_map_from, import_file, too_large
from peerdigest.domain.mail import summaries_released
from peerdigest.queue.mail import announce

router = APIRouter(prefix="/api/v1/evaluations", tags=["evaluations"])

ERRORS = {
    **SHARED_ERRORS,
    404: problem("Evaluation not found (or of another school, or one you take no part in)"),
}
INVALID = {422: problem("The request cannot be carried out as asked")}


def _out(session: SessionDep, evaluation: Evaluation, user: User) -> EvaluationOut:
    reviewees = session.execute(
        select(User.id, User.name)
        .join(Allocation, Allocation.reviewee_id == User.id)
        .where(Allocation.evaluation_id == evaluation.id, Allocation.reviewer_id == user.id)
        .order_by(User.name)
    ).all()
    return EvaluationOut(
        id=evaluation.id,
        title=evaluation.title,
        language=evaluation.language,
        deadline=evaluation.deadline,
        release=evaluation.release,
        created_at=evaluation.created_at,
        criteria=[CriterionOut.model_validate(c, from_attributes=True) for c in evaluation.criteria],
        opens_at=evaluation.opens_at,
        self_rating=evaluation.self_rating,
        self_rating_counts=evaluation.self_rating_counts,
        comment_required=evaluation.comment_required,
        remind_hours_before=evaluation.remind_hours_before,
        students=len(evaluation_members(session, evaluation.id)),
        to_review=[Reviewee(student_id=r.id, name=r.name) for r in reviewees],
    )


@router.get("", response_model=list[EvaluationOut], responses=ERRORS, summary="Evaluations you may see")
def list_evaluations(user: CurrentUser, session: SessionDep) -> list[EvaluationOut]:
    return [_out(session, e, user) for e in evaluations_of(session, user, staff=is_staff(user))]


# `create` and `import_feedback` check access inside, after FastAPI validated their body: as a
# dependency (`StaffUser`) the check would run first, and a student sending an invalid body would
# hear 403 where everybody hears 422.
@router.post(
    "",
    response_model=EvaluationOut,
    status_code=status.HTTP_201_CREATED,
    responses={**ERRORS, **INVALID},
    summary="Create an evaluation with its criteria and teams (teachers)",
)
def create(body: EvaluationIn, user: CurrentUser, session: SessionDep, settings: SettingsDep) -> EvaluationOut:
    require_staff(user)
    problems = check_options(now=utcnow(), opens_at=body.opens_at, deadline=body.deadline,
                             remind_hours_before=body.remind_hours_before, scale=body.scale)
    if problems:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "; ".join(f"{p.option}: {p.message}" for p in problems))
    try:
        evaluation = create_evaluation(
            session,
            school_id=user.school_id,
            title=body.title,
            language=body.language or settings.summary_language,
            deadline=body.deadline,
            release=body.release,
            criteria=_criteria(body),
            teams=body.teams,
            opens_at=body.opens_at,
            self_rating=body.self_rating,
            self_rating_counts=body.self_rating_counts,
            comment_required=body.comment_required,
            remind_hours_before=body.remind_hours_before,
        )
    except EvaluationError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    return _out(session, evaluation, user)


def _criteria(body: EvaluationIn) -> list[CriterionSpec]:
    """The criteria with their scales: each its own, or all 1..`scale` when the request gives one."""
    if body.scale is None:
        return [CriterionSpec(c.name, c.min_score, c.max_score) for c in body.criteria]
    if any({"min_score", "max_score"} & c.model_fields_set for c in body.criteria):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            "scale: A criterion gives its own min_score or max_score; with scale, leave them out.")
    return [CriterionSpec(c.name, 1, body.scale) for c in body.criteria]


IMPORT_COLLIDED = ("Another request added some of the same people or this evaluation at the same moment; nothing of "
                   "this one was imported. Send it again: an import finds what is there and adds to it.")


@router.post(
    "/import",
    response_model=ImportResult,
    responses={
        **ERRORS,
        409: problem("Another request added some of the same people or the evaluation at the same moment"),
        413: problem("The file is larger than IMPORT_MAX_BYTES"),
        422: {"model": ImportRejected, "description": "The file has problems; nothing was imported"},
    },
    summary="Import a CSV, .xlsx, JSON or JSON Lines file of peer feedback (teachers)",
)
def import_feedback(
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="CSV (`,` or `;`; UTF-8 or windows-1252), an .xlsx workbook (its first sheet), a JSON list or JSON Lines")],
    evaluation: Annotated[
        str, Form(min_length=1, max_length=300, description="Title of the evaluation; created when missing"),
        AfterValidator(no_nul),
    ],
    language: Annotated[Language | None, Form(description="Language of the evaluation (default: unchanged, or SUMMARY_LANGUAGE when new)")] = None,
    encoding: Annotated[Encoding | None, Form(description="The file's encoding (default: UTF-8 when it is, else windows-1252)")] = None,
    column_map: Annotated[
        list[str] | None,
        Form(alias="map", description="COLUMN=FIELD for a column of another name, e.g. Cijfer=score; repeat for more"),
    ] = None,
):
    require_staff(user)
    try:
        columns = column_map_from(column_map or [])
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    limit = settings.import_max_bytes
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, str(too_large(file.size or len(data), limit)))
    try:
        report = import_file(
            session,
            data,
            school=user.school.name,
            evaluation=evaluation,
            language=language,
            default_language=settings.summary_language,
            encoding=encoding,
            column_map=columns,
        )
    except IntegrityError as exc:  # most likely the same file sent twice at once
        raise HTTPException(status.HTTP_409_CONFLICT, IMPORT_COLLIDED) from exc
    if not report.ok:
        discard_writes(session)
        count = len(report.problems)
        return JSONResponse(
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
            content=ImportRejected(
                detail=f"The file has {count} problem{'s' if count != 1 else ''}; nothing was imported.",
                problems=[{"line": p.line, "message": p.message} for p in report.problems],
            ).model_dump(),
        )
    return ImportResult(
        **{name: getattr(report, name) for name in ImportResult.model_fields},
    )


@router.get("/{evaluation_id}", response_model=EvaluationOut, responses=ERRORS, summary="One evaluation")
def get_evaluation(evaluation: ParticipantEvaluation, user: CurrentUser, session: SessionDep) -> EvaluationOut:
    return _out(session, evaluation, user)


@router.patch(
    "/{evaluation_id}",
    response_model=EvaluationOut,
    responses=ERRORS,
    summary="Change title, language, release or deadline (teachers)",
)
def patch_evaluation(
    evaluation: StaffEvaluation, body: EvaluationPatch, user: CurrentUser, session: SessionDep,
    settings: SettingsDep, redis: RedisDep,
) -> EvaluationOut:
    changes = body.model_dump(exclude_unset=True)
    update_evaluation(session, evaluation, changes)
    # Release made automatic: every written summary can be read now, and its student is told.
    mails = summaries_released(session, settings, evaluation) if "release" in changes else []
    after_commit(session, lambda: announce(redis, settings, mails))
    return _out(session, evaluation, user)


@router.delete(
    "/{evaluation_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=ERRORS,
    summary="Delete an evaluation with its scores and summaries; job history stays (teachers)",
)
def remove_evaluation(evaluation: StaffEvaluation, session: SessionDep) -> Response:
    delete_evaluation(session, evaluation)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{evaluation_id}/scores",
    response_model=ScoresSaved,
    responses={**ERRORS, **INVALID},
    summary="Submit your scores and comments for the teammates you review, before the deadline",
)
def post_scores(evaluation: ParticipantEvaluation, body: ScoresIn, user: CurrentUser, session: SessionDep) -> ScoresSaved:
    entries = [ScoreEntry(s.reviewee_id, s.criterion_id, s.score, s.comment) for s in body.scores]
    try:
        saved = save_scores(session, evaluation, user, entries)
    except (NotCollecting, NotYourReviewee) as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(exc)) from exc
    except EvaluationError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    return ScoresSaved(
        created=saved.created, updated=saved.updated, unchanged=saved.unchanged,
        summaries_marked_stale=saved.summaries_marked_stale,
    )
