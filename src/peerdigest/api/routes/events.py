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

Waiting holds no database connection: the request's own session is closed
before the stream starts (FastAPI would otherwise keep it, and its pooled
connection, for the stream's whole life, so 16 open streams emptied the pool of
5 + 10 for everybody), and each look borrows a connection for one query. The
streams of one evaluation share their looks (`SharedLooks`): fifty tabs on one
evaluation cost the database one look per interval, not fifty. What a
stream still holds is its socket and a little memory, so each API process keeps
at most WEB_EVENTS_MAX streams open, and one user at most
WEB_EVENTS_MAX_PER_USER; one more is refused with 429, and the page falls back
to asking `.../states` every few seconds.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import AsyncIterator

import anyio
from fastapi import APIRouter, HTTPException, Request, status
from sse_starlette.sse import EventSourceResponse
from starlette.concurrency import run_in_threadpool
from starlette.types import Receive, Scope, Send

from peerdigest.api.deps import CurrentUser, SessionDep, SettingsDep, StaffEvaluation
from peerdigest.api.errors import ERRORS, problem
from peerdigest.api.ratelimit import Limit, limit
from peerdigest.config import Settings
from peerdigest.db.session import session_factory
from peerdigest.domain.summary_states import student_states

router = APIRouter(prefix="/api/v1/feedback-summaries", tags=["feedback summaries"])
RETRY_AFTER = 30  # seconds; a refused page polls `.../states` meanwhile


class StreamPlaces:
    """The open streams of this process, per user: a stream takes a place before it starts and gives it back when it ends."""

    def __init__(self, settings: Settings):
        self.per_user, self.total = settings.web_events_max_per_user, settings.web_events_max
        self.open: Counter[int] = Counter()
        self.lock = threading.Lock()  # routes run in the thread pool, streams end on the event loop

    def take(self, user_id: int) -> None:
        """Hold a place for one more stream of `user_id`; 429 with the reason when there is none."""
        with self.lock:
            if self.open[user_id] >= self.per_user:
                refused = (
                    f"You have {self.per_user} live event streams open already, at most {self.per_user} per user; "
                    "close a tab that shows an evaluation, or try again later."
                )
            elif self.open.total() >= self.total:
                refused = (
                    f"This server has {self.total} live event streams open, as many as it keeps; "
                    "the page updates every few seconds instead. Try again later."
                )
            else:
                self.open[user_id] += 1
                return
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, refused, headers={"Retry-After": str(RETRY_AFTER)})

    def give_back(self, user_id: int) -> None:
        with self.lock:
            self.open[user_id] -= 1
            if self.open[user_id] <= 0:
                del self.open[user_id]


class PlacedStream(EventSourceResponse):
    """An event stream that gives its place back however it ends: the client leaving, an error, or a HEAD request."""

    def __init__(self, content: AsyncIterator[dict], places: StreamPlaces, user_id: int):
        super().__init__(content, ping=15)
        self.places, self.user_id = places, user_id

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.places.give_back(self.user_id)


def _states(database_url: str, evaluation_id: int) -> dict[int, dict]:
    # A short session of its own per look: its connection goes back to the pool before the stream waits.
    session = session_factory(database_url)()
    try:
        return {s.student_id: s.as_json() for s in student_states(session, evaluation_id)}
    finally:
        session.close()


class SharedLooks:
    """The latest look at each watched evaluation: a stream that asks within an interval of the last look gets that one."""

    def __init__(self, settings: Settings):
        self.database_url, self.interval = settings.database_url, settings.web_events_interval
        self.taken: dict[int, tuple[float, dict[int, dict]]] = {}  # evaluation id → (when, states)
        self.locks: dict[int, anyio.Lock] = {}

    async def states(self, evaluation_id: int) -> dict[int, dict]:
        # One stream looks while the others of the evaluation wait for its answer instead of asking too.
        async with self.locks.setdefault(evaluation_id, anyio.Lock()):
            now = anyio.current_time()
            taken = self.taken.get(evaluation_id)
            if taken is None or now - taken[0] >= self.interval / 2:
                self._forget_unwatched(now)
                taken = self.taken[evaluation_id] = (now, await run_in_threadpool(_states, self.database_url, evaluation_id))
            return taken[1]

    def _forget_unwatched(self, now: float) -> None:
        for evaluation_id, (when, _) in list(self.taken.items()):
            if now - when > 10 * self.interval + 60 and not self.locks[evaluation_id].locked():
                del self.taken[evaluation_id], self.locks[evaluation_id]


async def changes(request: Request, looks: SharedLooks, evaluation_id: int, interval: float) -> AsyncIterator[dict]:
    """`student` events for every state that differs from the last one sent, until the client goes away."""
    sent: dict[int, dict] = {}
    while not await request.is_disconnected():
        now = await looks.states(evaluation_id)
        for student_id, state in now.items():
            if sent.get(student_id) != state:
                sent[student_id] = state
                yield {"event": "student", "data": json.dumps(state)}
        await anyio.sleep(interval)


@router.get(
    "/evaluation/{evaluation_id}/events",
    openapi_extra=limit(Limit.status),
    responses={**ERRORS, 429: problem("Too many open streams (of this user or this server), or over the rate limit")},
    summary="Live summary states of an evaluation's students (Server-Sent Events; teachers)",
    description="A `text/event-stream` of `student` events, one per student whose summary state changed "
    "(the first ones describe everybody): `{student_id, name, team, comments, state, progress, method, "
    "updated_at, error, job_id, job_open}`, where `state` is none, queued, processing, completed, failed, "
    "cancelled or stale. Read from the database about once a second (WEB_EVENTS_INTERVAL). "
    "A user may hold WEB_EVENTS_MAX_PER_USER streams open at once and a server WEB_EVENTS_MAX; "
    "one more is answered 429 (use `.../states` meanwhile).",
)
def evaluation_events(
    evaluation: StaffEvaluation, request: Request, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> EventSourceResponse:
    # The request's unit of work closes its session as this returns, before the stream starts: no connection waits.
    places: StreamPlaces = request.app.state.event_streams
    places.take(user.id)
    looks = changes(request, request.app.state.event_looks, evaluation.id, settings.web_events_interval)
    return PlacedStream(looks, places, user.id)


@router.get(
    "/evaluation/{evaluation_id}/states",
    responses=ERRORS,
    summary="Summary states of an evaluation's students, now (teachers)",
    description="The same objects the events stream sends, as one list: for clients that cannot keep a stream open "
    "(the evaluation page falls back to asking this every few seconds).",
)
def evaluation_states(evaluation: StaffEvaluation, session: SessionDep) -> list[dict]:
    return [s.as_json() for s in student_states(session, evaluation.id)]
