"""Typed dependencies: settings, database session, queue connection, current user, access checks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from redis import Redis
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from peerdigest.config import AuthMode, Settings
from peerdigest.api.schemas import JobId, PathId
from peerdigest.db.models import Allocation, Evaluation, Role, ScheduledJob, SummaryJob, User
from peerdigest.db.session import API_BUSY_TIMEOUT, session_scope
from peerdigest.domain import auth, web_sessions
from peerdigest.domain.evaluations import takes_part
from peerdigest.domain.feedback import receives_feedback
from peerdigest.domain.users import UserError, user_of_school
from peerdigest.i18n import N_, Message
from peerdigest.queue.jobs import find_with_evaluation


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_session(request: Request) -> AsyncIterator[Session]:
    """The request's unit of work: committed once when the route or page returned, rolled back when it raised.

    Routes and pages never commit: what must follow the commit they hand to
    `after_commit`, and a refusal answered with a page rather than an exception
    drops its writes with `discard_writes`. With scope="function" (`SessionDep`)
    FastAPI ends it right after the endpoint returned and its answer was
    serialized, before the response is sent: a client that got 2xx finds the
    write committed, and a commit that fails is an error answer (503 when the
    database is away), never a success that did not happen. A streamed answer
    starts with the connection handed back.

    Opened on the event loop (making a session does no I/O: it connects at its
    first statement), ended in the thread pool (the commit waits for the
    database): one hand-off to the pool per request fewer than a plain `with`
    in a sync dependency, which FastAPI enters and exits there.
    """
    unit = session_scope(request.app.state.settings.database_url, API_BUSY_TIMEOUT)
    session = unit.__enter__()
    try:
        yield session
    except Exception as exc:
        if not await run_in_threadpool(unit.__exit__, type(exc), exc, exc.__traceback__):
            raise
    else:
        await run_in_threadpool(unit.__exit__, None, None, None)


async def get_redis(request: Request) -> Redis:
    return request.app.state.redis


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
RedisDep = Annotated[Redis, Depends(get_redis)]


# Declared as security schemes so /docs offers both; which one counts is AUTH_MODE's choice alone.
_bearer_token = HTTPBearer(
    auto_error=False, scheme_name="API token", description="AUTH_MODE=token: a token from `peerdigest tokens create`"
)
_dev_email = APIKeyHeader(
    name="X-User-Email", auto_error=False, scheme_name="Development email", description="AUTH_MODE=dev only: a user's email"
)


def identify(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer_token)],
    dev_email: Annotated[str | None, Depends(_dev_email)],
) -> User | auth.NotAuthenticated:
    """The user the request proves it comes from, the way AUTH_MODE says, or why it proves no one.

    A browser that signed in to the web app (in whichever mode) proves itself
    with its session cookie instead of the mode's header, which it cannot send;
    `check_csrf` makes sure a state-changing request of such a browser comes
    from our own pages. The mode's own credential, when sent, counts first.

    A dependency of its own so that `current_user` and the guards every request
    passes (`api/guards.py`: the rate limit, `check_csrf`) share one lookup per request.
    """
    client_host = request.client.host if request.client else None
    browser = web_sessions.find(session, request.cookies.get(web_sessions.COOKIE), settings.auth_mode)
    if settings.auth_mode == AuthMode.proxy and not auth.is_trusted_proxy(settings, client_host):
        browser = None  # a proxy-mode session counts only through the proxy, like the proxy's header
    request.state.web_session = browser
    sent_credential = {
        AuthMode.token: bearer is not None,
        AuthMode.proxy: settings.auth_proxy_header in request.headers,
        AuthMode.dev: bool(dev_email),
    }[settings.auth_mode]
    if browser is not None and not sent_credential:
        return browser.user
    try:
        if settings.auth_mode == AuthMode.token:
            return auth.user_by_token(session, bearer.credentials if bearer else None)
        if settings.auth_mode == AuthMode.proxy:
            return auth.user_from_proxy(session, settings, client_host, request.headers.getlist(settings.auth_proxy_header))
        return auth.user_by_email(session, dev_email, header="X-User-Email")
    except auth.NotAuthenticated as exc:
        return exc


Identity = Annotated[User | auth.NotAuthenticated, Depends(identify)]


async def current_user(identity: Identity, settings: SettingsDep) -> User:
    """The signed-in user; 401 otherwise."""
    if isinstance(identity, auth.NotAuthenticated):
        challenge = {"WWW-Authenticate": "Bearer"} if settings.auth_mode == AuthMode.token else None
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(identity), headers=challenge) from identity
    return identity


# Content types a page of another site can POST to us without the browser asking us first (a CORS "simple" request).
_SIMPLE_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data", "text/plain")


async def check_csrf(request: Request, identity: User | auth.NotAuthenticated, settings: Settings) -> None:
    """Refuse (403) a state-changing request of a signed-in browser that lacks its session's form token.

    Another site can make a browser send our cookie, but it cannot read the token
    in our pages, so only they can send it back: as the `X-CSRF-Token` header
    (fetch) or the `csrf_token` field (forms). Requests without a session cookie
    prove themselves with a header a browser never adds by itself, and pass —
    except behind a signing-in proxy, whose identity header the proxy adds to
    whatever the browser sends, another site's form included.
    """
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    browser = getattr(request.state, "web_session", None)
    if browser is None:
        if settings.auth_mode == AuthMode.proxy and isinstance(identity, User) and _from_another_page(request):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                N_("This request may come from another site's page: send it as JSON, or from a page of ours."),
            )
        return
    sent = request.headers.get(web_sessions.CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        sent = (await request.form()).get(web_sessions.CSRF_FIELD)
    if not web_sessions.csrf_matches(browser, sent if isinstance(sent, str) else None):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            N_("This request lacks the page's security token (CSRF); reload the page and try again."),
        )


def _from_another_page(request: Request) -> bool:
    """Whether a browser on another site's page could have sent this request without our say: its browser says so
    (Sec-Fetch-Site), or it is of a kind a form or a no-questions fetch sends. A script's JSON, or a POST with no
    body, is neither."""
    if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        return True
    return request.headers.get("content-type", "").lower().startswith(_SIMPLE_CONTENT_TYPES)


CurrentUser = Annotated[User, Depends(current_user)]


def is_staff(user: User) -> bool:
    return user.role in (Role.teacher, Role.admin)


def visible_evaluation(session: Session, user: User, evaluation_id: int) -> Evaluation:
    """The evaluation, if it exists within the user's school.

    Another school's evaluation answers 404, exactly like a missing one, so
    nothing of another school is ever visible, not even its existence.
    """
    evaluation = session.get(Evaluation, evaluation_id)
    if evaluation is None or evaluation.school_id != user.school_id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, Message("Evaluation %(id)s not found.", id=evaluation_id))
    return evaluation


def check_student(session: Session, user: User, evaluation: Evaluation, student_id: int) -> None:
    """Staff may act for any student of their school's evaluation; a student only for themself (else 403)."""
    if not is_staff(user) and user.id != student_id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, N_("Students may only see and request their own summary."))
    if not receives_feedback(session, evaluation.id, student_id):
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            Message("Student %(student)s receives no feedback in evaluation %(evaluation)s.",
                    student=student_id, evaluation=evaluation.id),
        )


def require_staff(user: User) -> None:
    if not is_staff(user):
        raise HTTPException(status.HTTP_403_FORBIDDEN, N_("Only teachers and admins may do this."))


# --- Access declared on a route ---------------------------------------------------------
# A route states who may call it by the types of its parameters; each check runs before the
# route does, in the order of the parameters (so a student asking for a teacher's route of a
# missing evaluation hears 403, not 404).


async def staff_user(user: CurrentUser) -> User:
    """The signed-in user, if a teacher or admin (else 403)."""
    require_staff(user)
    return user


StaffUser = Annotated[User, Depends(staff_user)]


async def admin_user(user: CurrentUser) -> User:
    """The signed-in user, if an admin of their school (else 403)."""
    if user.role != Role.admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, N_("Only a school's admins may do this."))
    return user


AdminUser = Annotated[User, Depends(admin_user)]


async def installation_user(user: CurrentUser, settings: SettingsDep) -> User:
    """The signed-in user, if one of the installation's administrators (else 403): queues, workers and
    the list of schools serve every school."""
    if not auth.sees_installation(user, settings):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, N_("Only the installation's administrators (INSTALLATION_ADMINS) may do this.")
        )
    return user


InstallationUser = Annotated[User, Depends(installation_user)]


def school_member(user_id: PathId, admin: AdminUser, session: SessionDep) -> User:
    """The user of the path, for an admin of their school (else 403, then 404: another school's is not found)."""
    try:
        return user_of_school(session, admin.school_id, user_id)
    except UserError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, exc.args[0]) from exc


SchoolMember = Annotated[User, Depends(school_member)]


def evaluation_in_school(evaluation_id: PathId, user: CurrentUser, session: SessionDep) -> Evaluation:
    """The evaluation of the path, if it is of the user's school (else 404)."""
    return visible_evaluation(session, user, evaluation_id)


VisibleEvaluation = Annotated[Evaluation, Depends(evaluation_in_school)]


def staff_evaluation(evaluation_id: PathId, user: StaffUser, session: SessionDep) -> Evaluation:
    """The evaluation of the path, for a teacher or admin of its school (else 403, then 404)."""
    return visible_evaluation(session, user, evaluation_id)


StaffEvaluation = Annotated[Evaluation, Depends(staff_evaluation)]


def participant_evaluation(evaluation: VisibleEvaluation, user: CurrentUser, session: SessionDep) -> Evaluation:
    """The evaluation of the path: any of their school's for staff, one they take part in for a student (else 404)."""
    if not is_staff(user) and not takes_part(session, evaluation.id, user.id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, Message("Evaluation %(id)s not found.", id=evaluation.id))
    return evaluation


ParticipantEvaluation = Annotated[Evaluation, Depends(participant_evaluation)]


def reviewer_evaluation(evaluation: VisibleEvaluation, user: CurrentUser, session: SessionDep) -> Evaluation:
    """The evaluation of the path, if the user scores someone in it (else 404, as for a missing one)."""
    asked = exists().where(Allocation.evaluation_id == evaluation.id, Allocation.reviewer_id == user.id)
    if not session.scalar(select(asked)):
        raise HTTPException(status.HTTP_404_NOT_FOUND, Message("Evaluation %(id)s not found.", id=evaluation.id))
    return evaluation


ReviewerEvaluation = Annotated[Evaluation, Depends(reviewer_evaluation)]


@dataclass(frozen=True)
class EvaluationStudent:
    evaluation: Evaluation
    student_id: int


def own_student(
    evaluation: VisibleEvaluation, student_id: PathId, user: CurrentUser, session: SessionDep
) -> EvaluationStudent:
    """The student of the path in the evaluation of the path: any of them for staff, only themself for a student."""
    check_student(session, user, evaluation, student_id)
    return EvaluationStudent(evaluation, student_id)


OwnStudent = Annotated[EvaluationStudent, Depends(own_student)]


def visible_job(job_id: JobId, user: CurrentUser, session: SessionDep) -> SummaryJob:
    """The job of the path, if the user may see it: staff of its school, or the student it is about."""
    found = find_with_evaluation(session, job_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Job {job_id!r} not found.")
    job, evaluation = found  # `evaluation` held: the check below finds it in the session, no second query
    visible_evaluation(session, user, job.evaluation_id)
    if not is_staff(user) and job.student_id != user.id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Students may only follow and cancel their own jobs.")
    return job


VisibleJob = Annotated[SummaryJob, Depends(visible_job)]


def own_schedule(schedule_id: PathId, user: CurrentUser, session: SessionDep) -> ScheduledJob:
    """The schedule of the path, for a teacher or admin of its school (else 403, then 404).

    The staff check is made here, not by a `StaffUser` parameter: FastAPI runs a dependency's
    dependencies before it validates the dependency's own parameters, so with one an invalid id
    would answer a student 403 where it answers everybody 422.
    """
    require_staff(user)
    schedule = session.get(ScheduledJob, schedule_id)
    if schedule is None or schedule.school_id != user.school_id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Scheduled job {schedule_id} not found.")
    return schedule


OwnSchedule = Annotated[ScheduledJob, Depends(own_schedule)]
