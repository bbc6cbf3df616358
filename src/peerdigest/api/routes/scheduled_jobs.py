"""/api/v1/scheduled-jobs: cron schedules that queue an evaluation's summaries (teachers, own school only)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Response, status
from sqlalchemy import select

from peerdigest.api.deps import (
    CurrentUser,
    OwnSchedule,
    SessionDep,
    SettingsDep,
    StaffUser,
    own_schedule,
    require_staff,
    visible_evaluation,
)
from peerdigest.api.errors import problem
from peerdigest.api.schemas import (
    PathId,
    ScheduledJobIn,
    ScheduledJobList,
    ScheduledJobOut,
    ScheduledJobPatch,
)
from peerdigest.db.models import ScheduledJob
from peerdigest.domain import schedules

router = APIRouter(tags=["scheduled jobs"])
PREFIX = "/api/v1/scheduled-jobs"
# Where the origin app served schedules (with `cron_expression` for `cron`); its existing clients still call them there.
LEGACY_PREFIX = "/api/v1/feedback-summaries/scheduled-jobs"

ERRORS = {
    401: problem("No or unknown user"),
    403: problem("Only teachers and admins manage schedules"),
    404: problem("Schedule or evaluation not found (or of another school)"),
}
INVALID = {422: problem("Invalid cron expression, or students outside the evaluation")}
# The routes with a body check access inside, after FastAPI validated the body: as a dependency
# (`StaffUser`, `OwnSchedule`) the check would run first, and a student sending an invalid body
# would hear 403 where everybody hears 422.


def _unprocessable(exc: schedules.ScheduleError) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc))


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ScheduledJobOut,
    responses={**ERRORS, **INVALID},
    summary="Schedule summaries of an evaluation with a cron expression",
)
def create_schedule(body: ScheduledJobIn, user: CurrentUser, session: SessionDep, settings: SettingsDep) -> ScheduledJobOut:
    require_staff(user)
    visible_evaluation(session, user, body.evaluation_id)
    try:
        schedule = schedules.create(
            session,
            settings,
            school_id=user.school_id,
            evaluation_id=body.evaluation_id,
            name=body.name,
            cron=body.cron,
            student_ids=body.student_ids,
            enabled=body.enabled,
            created_by_id=user.id,
        )
    except schedules.ScheduleError as exc:
        raise _unprocessable(exc) from exc
    return ScheduledJobOut.model_validate(schedule)


@router.get(
    "",
    response_model=ScheduledJobList,
    responses={code: ERRORS[code] for code in (401, 403)},
    summary="The schedules of your school",
)
def list_schedules(user: StaffUser, session: SessionDep) -> ScheduledJobList:
    found = session.scalars(
        select(ScheduledJob).where(ScheduledJob.school_id == user.school_id).order_by(ScheduledJob.id)
    )
    listed = [ScheduledJobOut.model_validate(schedule) for schedule in found]
    return ScheduledJobList(total=len(listed), scheduled_jobs=listed)


@router.get("/{schedule_id}", response_model=ScheduledJobOut, responses=ERRORS, summary="One schedule")
def get_schedule(schedule: OwnSchedule) -> ScheduledJobOut:
    return ScheduledJobOut.model_validate(schedule)


@router.patch(
    "/{schedule_id}",
    response_model=ScheduledJobOut,
    responses={**ERRORS, **INVALID},
    summary="Change a schedule (only the fields sent)",
)
def change_schedule(
    schedule_id: PathId, body: ScheduledJobPatch, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> ScheduledJobOut:
    schedule = own_schedule(schedule_id, user, session)
    changes = body.model_dump(exclude_unset=True)
    for field in ("name", "cron", "evaluation_id", "enabled"):
        if field in changes and changes[field] is None:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"{field} cannot be null; leave it out to keep it.")
    if "evaluation_id" in changes:
        visible_evaluation(session, user, changes["evaluation_id"])
    try:
        schedules.change(session, settings, schedule, changes)
    except schedules.ScheduleError as exc:
        raise _unprocessable(exc) from exc
    return ScheduledJobOut.model_validate(schedule)


@router.delete(
    "/{schedule_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=ERRORS,
    summary="Delete a schedule (jobs it already queued stay)",
)
def delete_schedule(schedule: OwnSchedule, session: SessionDep) -> Response:
    session.delete(schedule)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
