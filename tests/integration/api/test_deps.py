"""The request's unit of work (`get_session`): committed before the answer starts, or nothing kept at all.

What a client is told must already be true for everyone else: each test looks
at the database through a fresh session at the moment the response starts, as
a second client (or a worker) reacting to the answer would.
"""

import asyncio

from fastapi import FastAPI, HTTPException
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import select

from peerdigest.api.app import create_app
from peerdigest.api.deps import SessionDep, get_session
from peerdigest.db.models import Evaluation, School, SummaryJob
from peerdigest.db.session import after_commit, session_scope
from peerdigest.queue.connection import connect
from peerdigest.queue.queues import summary_queues
from peerdigest.web.app import create_app as create_served_app
from tests.support.api import PREFIX, TEACHER


def _schools(url: str) -> list[str]:
    with session_scope(url) as session:
        return list(session.scalars(select(School.name).order_by(School.name)))


class AtResponseStart:
    """The app, noting what `look()` returns the moment each response starts."""

    def __init__(self, app, look):
        self.app, self.look, self.seen = app, look, []

    async def __call__(self, scope, receive, send):
        async def noting(message):
            if message["type"] == "http.response.start":
                self.seen.append(self.look())
            await send(message)

        await self.app(scope, receive, noting)


def _school_app(settings, ran: list[str]) -> FastAPI:
    """A route as routes are written: it writes, hands the Redis side to `after_commit`, and never commits."""
    app = FastAPI()
    app.state.settings = settings

    @app.post("/schools/{name}")
    def add_school(name: str, session: SessionDep, refuse: bool = False):
        session.add(School(name=name))
        after_commit(session, lambda: ran.append(name))
        if refuse:
            raise HTTPException(409, "Refused after writing.")
        return {"added": name}

    return app


def _client(settings, ran):
    app = AtResponseStart(_school_app(settings, ran), lambda: (_schools(settings.database_url), list(ran)))
    return app, TestClient(app, raise_server_exceptions=False)


def test_a_write_is_committed_and_its_actions_have_run_when_the_answer_starts(settings):
    ran = []
    app, client = _client(settings, ran)
    assert client.post("/schools/Noord").status_code == 200
    assert app.seen == [(["Noord"], ["Noord"])]


def test_a_route_that_wrote_and_then_raised_leaves_nothing_written_and_runs_no_action(settings):
    ran = []
    app, client = _client(settings, ran)
    assert client.post("/schools/Noord", params={"refuse": True}).status_code == 409
    assert app.seen == [([], [])]
    assert (_schools(settings.database_url), ran) == ([], [])


def test_a_commit_that_fails_is_an_error_answer_and_runs_no_action(settings):
    ran = []
    app, client = _client(settings, ran)
    assert client.post("/schools/Noord").status_code == 200
    assert client.post("/schools/Noord").status_code == 500  # the unique name refuses it at the commit
    assert app.seen[-1] == (["Noord"], ["Noord"])


def test_an_evaluation_created_through_the_api_is_there_for_everyone_when_the_answer_starts(demo_school):
    def titles():
        with session_scope(demo_school.database_url) as session:
            return set(session.scalars(select(Evaluation.title)))

    app = AtResponseStart(create_app(demo_school, redis=connect(demo_school.redis_url)), titles)
    body = {"title": "Sprint 1", "criteria": [{"name": "Effort"}]}
    response = TestClient(app).post("/api/v1/evaluations", json=body, headers=TEACHER)
    assert response.status_code == 201
    assert "Sprint 1" in app.seen[-1]


def test_a_route_whose_lifecycle_transition_commits_on_the_way_answers_with_row_and_queue_agreeing(demo_school, redis):
    """Row first, then Redis: the transition commits the request's session itself; the unit of work's own commit
    at the end finds nothing left, and the answer starts with the job in the database and its id on Redis."""

    def job_and_queue():
        with session_scope(demo_school.database_url) as session:
            rows = [(job.job_id, job.status) for job in session.scalars(select(SummaryJob))]
        return rows, [job_id for queue in summary_queues(redis) for job_id in queue.get_job_ids()]

    app = AtResponseStart(create_app(demo_school, redis=redis), job_and_queue)
    response = TestClient(app).post(f"{PREFIX}/evaluation/56/student/19/queue", headers=TEACHER)
    assert response.status_code == 202
    job_id = response.json()["job_id"]
    assert app.seen == [([(job_id, "queued")], [job_id])]


def test_every_endpoint_holding_the_unit_of_work_runs_in_a_thread_never_on_the_event_loop(demo_school):
    """An `async def` endpoint waits for a lock on the event loop: while it waits, the request whose write holds that
    lock cannot get its commit (run after its endpoint, started from the loop) under way, so each waits for the other.
    Four autosaves at once on SQLite: all waited 10 s, two of them answered 503."""
    app = create_served_app(demo_school, redis=connect(demo_school.redis_url))
    on_loop = [
        f"{sorted(route.methods)} {route.path}"
        for route in iter_route_contexts(app.routes)
        if isinstance(route.route, APIRoute) and asyncio.iscoroutinefunction(route.endpoint)
        and any(needed.call is get_session for needed in _all_dependencies(route.dependant))
    ]
    assert on_loop == []


def _all_dependencies(dependant):
    for needed in dependant.dependencies:
        yield needed
        yield from _all_dependencies(needed)
