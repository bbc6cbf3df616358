"""GET /api/v1/feedback-summaries/evaluation/{id}/events: the evaluation's summary states, live (Server-Sent Events).

One stream per evaluation replaces a page polling each job. Every
WEB_EVENTS_INTERVAL seconds the stream reads the evaluation's states from the
database (`domain/summary_states.py`) and sends the students whose state
changed, one `student` event each; the first look sends everyone.

Why read the database rather than listen to the workers: the database is the
source of truth for a job's status (Redis holds only ids), so the stream shows
exactly what a status request would answer, keeps working while Redis is
down, cannot miss a change made by any process (a worker, the reconciler, a
cancel from the command line) and needs no second channel to be kept in step.
The price is that a change shorter than the interval may be seen only as its
result.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import anyio
from fastapi import APIRouter, Request
from sse_starlette.sse import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from peerdigest.api.deps import CurrentUser, SessionDep, SettingsDep, require_staff, visible_evaluation
from peerdigest.api.errors import ERRORS
from peerdigest.api.ratelimit import Limit, limit
from peerdigest.api.schemas import PathId
from peerdigest.db.session import session_factory
from peerdigest.domain.summary_states import student_states

router = APIRouter(prefix="/api/v1/feedback-summaries", tags=["feedback summaries"])


def _states(database_url: str, evaluation_id: int) -> dict[int, dict]:
    # A session of its own per look: the request's session closes when the stream starts.
    session = session_factory(database_url)()
    try:
        return {s.student_id: s.as_json() for s in student_states(session, evaluation_id)}
    finally:
        session.close()


async def changes(request: Request, database_url: str, evaluation_id: int, interval: float) -> AsyncIterator[dict]:
    """`student` events for every state that differs from the last one sent, until the client goes away."""
    sent: dict[int, dict] = {}
    while not await request.is_disconnected():
        now = await run_in_threadpool(_states, database_url, evaluation_id)
        for student_id, state in now.items():
            if sent.get(student_id) != state:
                sent[student_id] = state
                yield {"event": "student", "data": json.dumps(state)}
        await anyio.sleep(interval)


@router.get(
    "/evaluation/{evaluation_id}/events",
    openapi_extra=limit(Limit.status),
    responses=ERRORS,
    summary="Live summary states of an evaluation's students (Server-Sent Events; teachers)",
    description="A `text/event-stream` of `student` events, one per student whose summary state changed "
    "(the first ones describe everybody): `{student_id, name, team, comments, state, progress, method, "
    "updated_at, error, job_id, job_open}`, where `state` is none, queued, processing, completed, failed, "
    "cancelled or stale. Read from the database about once a second (WEB_EVENTS_INTERVAL).",
)
def evaluation_events(
    evaluation_id: PathId, request: Request, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> EventSourceResponse:
    require_staff(user)
    visible_evaluation(session, user, evaluation_id)
    return EventSourceResponse(
        changes(request, settings.database_url, evaluation_id, settings.web_events_interval), ping=15
    )


@router.get(
    "/evaluation/{evaluation_id}/states",
    responses=ERRORS,
    summary="Summary states of an evaluation's students, now (teachers)",
    description="The same objects the events stream sends, as one list: for clients that cannot keep a stream open "
    "(the evaluation page falls back to asking this every few seconds).",
)
def evaluation_states(evaluation_id: PathId, user: CurrentUser, session: SessionDep) -> list[dict]:
    require_staff(user)
    visible_evaluation(session, user, evaluation_id)
    return [s.as_json() for s in student_states(session, evaluation_id)]
