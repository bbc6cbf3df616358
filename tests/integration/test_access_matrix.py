"""Every route and page of the app peerdigest serves × every role: the status each role gets, from one table.

`ACCESS` lists each (method, path template) with the status expected for each role, in the order of `ROLES`.
The routes are read from the composed app itself (`web/app.create_app`), so a route added tomorrow without
a line here fails `test_every_route_of_the_app_has_a_line_in_the_table`, and a line whose route is gone fails
it too.

The world is the demo school (teacher docent@, admin admin@, students jan (19) and sanne (20) in
evaluations 56 and 57), a teacher of another school, and an installation administrator who is the admin
of a third school: built once, on SQLite. Paths are filled with the demo school's ids: jan's evaluation
and jan himself, his open job, the school's schedule, the teacher docent@ (for an admin's pages), a failed
job (for the operations page), and a sign-in link of jan's. So "student" asks about himself, "other
student" about a classmate, and the other school's teacher and the installation administrator about
another school's evaluation.

Writes: every cell starts from the same world. The database is copied aside once built and copied back
(SQLite's backup API) after each request, so a delete, an archive, a sign-out or a disabled teacher in one
cell never changes what a later cell sees, whatever order the cells run in; a copy costs a millisecond,
far less than building the world again. Redis keeps what the cells queue, which no access rule reads.

Each role signs in once through the sign-in form, as a browser does (pages need a browser session), and
sends its email (`X-User-Email`, development sign-in, as the API's clients do) and its session's form
token (`X-CSRF-Token`) with every request, so a state-changing request reaches the access checks.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select

from peerdigest.db.migrate import upgrade
from peerdigest.db.models import Allocation, Criterion, Role, School, SummaryJob, User, utcnow
from peerdigest.db.session import session_scope
from peerdigest.dev.seed import seed_demo
from peerdigest.domain import schedules, sign_in_links
from peerdigest.queue.connection import connect
from peerdigest.queue.enqueue import new_job_id
from peerdigest.web.app import create_app
from peerdigest.web.pages import FLASH_COOKIE
from tests.conftest import make_settings
from tests.support.feedback import EXAMPLE_CSV, failed_job, store_summary
from tests.support.web import sign_in

ROLES = ("anonymous", "student", "other_student", "teacher", "other_teacher", "admin", "installation_admin")
EMAILS = {
    "student": "jan@example.com",
    "other_student": "sanne@example.com",
    "teacher": "docent@example.com",
    "other_teacher": "juf@andere.example",
    "admin": "admin@example.com",
    "installation_admin": "beheer@installatie.example",
}
EVALUATION, STUDENT, TEACHER = 56, 19, 1
API = "/api/v1/feedback-summaries"
NEW_CLASS = "Naam\tE-mail\tTeam\nEen Nieuw\teen@nieuw.example\tA\nTwee Nieuw\ttwee@nieuw.example\tA\n"

# (method, path template): the status for each role, in the order of ROLES:
#   anonymous, student, other student, teacher, other school's teacher, admin, installation admin
ACCESS: dict[tuple[str, str], tuple[int, int, int, int, int, int, int]] = {
    # The API's documents and health: anyone.
    ("GET", "/openapi.json"): (200, 200, 200, 200, 200, 200, 200),
    ("GET", "/docs"): (200, 200, 200, 200, 200, 200, 200),
    ("GET", "/redoc"): (200, 200, 200, 200, 200, 200, 200),
    ("GET", "/healthz"): (200, 200, 200, 200, 200, 200, 200),
    # Metrics go by address or METRICS_TOKEN, never by user: the test client is no loopback address.
    ("GET", "/metrics"): (403, 403, 403, 403, 403, 403, 403),
    # Summaries of one student: the student themself, or staff of the school.
    ("POST", API + "/evaluation/{evaluation_id}/student/{student_id}/queue"): (401, 202, 403, 202, 404, 202, 404),
    ("POST", API + "/evaluation/{evaluation_id}/student/{student_id}/regenerate"): (401, 202, 403, 202, 404, 202, 404),
    ("GET", API + "/jobs/{job_id}/status"): (401, 200, 403, 200, 404, 200, 404),
    ("POST", API + "/jobs/{job_id}/cancel"): (401, 200, 403, 200, 404, 200, 404),
    # Evaluation 56 is reviewed before release, and jan's summary is not approved yet: not found for him.
    ("GET", API + "/evaluation/{evaluation_id}/student/{student_id}"): (401, 404, 403, 200, 404, 200, 404),
    ("GET", API + "/evaluation/{evaluation_id}/student/{student_id}/quotes"): (401, 404, 403, 200, 404, 200, 404),
    # A class's summaries: staff of the school (a student lists their own jobs only).
    ("POST", API + "/evaluation/{evaluation_id}/cancel-all"): (401, 403, 403, 200, 404, 200, 404),
    ("POST", API + "/evaluation/{evaluation_id}/batch-queue"): (401, 403, 403, 202, 404, 202, 404),
    ("GET", API + "/evaluation/{evaluation_id}/jobs"): (401, 200, 200, 200, 404, 200, 404),
    ("POST", API + "/evaluation/{evaluation_id}/student/{student_id}/approve"): (401, 403, 403, 200, 404, 200, 404),
    ("POST", API + "/evaluation/{evaluation_id}/approve-all"): (401, 403, 403, 200, 404, 200, 404),
    ("GET", API + "/evaluation/{evaluation_id}/review"): (401, 403, 403, 200, 404, 200, 404),
    ("GET", API + "/evaluation/{evaluation_id}/export"): (401, 403, 403, 200, 404, 200, 404),
    ("GET", API + "/evaluation/{evaluation_id}/insights"): (401, 403, 403, 200, 404, 200, 404),
    ("GET", API + "/evaluation/{evaluation_id}/states"): (401, 403, 403, 200, 404, 200, 404),
    # The stream's one place is taken (see `world`): a role let through hears 429 instead of a stream.
    ("GET", API + "/evaluation/{evaluation_id}/events"): (401, 403, 403, 429, 404, 429, 404),
    # Evaluations: any signed-in user lists theirs; staff create and import in their own school.
    ("GET", "/api/v1/evaluations"): (401, 200, 200, 200, 200, 200, 200),
    ("POST", "/api/v1/evaluations"): (401, 403, 403, 201, 201, 201, 201),
    ("POST", "/api/v1/evaluations/import"): (401, 403, 403, 200, 200, 200, 200),
    ("GET", "/api/v1/evaluations/{evaluation_id}"): (401, 200, 200, 200, 404, 200, 404),
    ("PATCH", "/api/v1/evaluations/{evaluation_id}"): (401, 403, 403, 200, 404, 200, 404),
    ("DELETE", "/api/v1/evaluations/{evaluation_id}"): (401, 403, 403, 204, 404, 204, 404),
    ("POST", "/api/v1/evaluations/{evaluation_id}/scores"): (401, 200, 200, 403, 404, 403, 404),
    # Schedules: staff of the school, at the new path and the origin app's.
    **{
        (method, prefix + path): expected
        for prefix in ("/api/v1/scheduled-jobs", API + "/scheduled-jobs")
        for method, path, expected in (
            ("POST", "", (401, 403, 403, 201, 404, 201, 404)),
            ("GET", "", (401, 403, 403, 200, 200, 200, 200)),
            ("GET", "/{schedule_id}", (401, 403, 403, 200, 404, 200, 404)),
            ("PATCH", "/{schedule_id}", (401, 403, 403, 200, 404, 200, 404)),
            ("DELETE", "/{schedule_id}", (401, 403, 403, 204, 404, 204, 404)),
        )
    },
    # The queue: staff see their school's jobs (and the installation's administrators every queue); health: anyone.
    **{
        (method, prefix + path): expected
        for prefix in ("/api/v1/queue", API + "/queue")
        for method, path, expected in (
            ("GET", "/stats", (401, 403, 403, 200, 200, 200, 200)),
            ("GET", "/health", (503, 503, 503, 503, 503, 503, 503)),
        )
    },
    # Signing in and out, and the language: anyone (a page that needs nobody signed in). "/" sends each to their
    # start page, the sign-in page a signed-in browser too; a sign-in form without its token is refused (401).
    ("GET", "/"): (303, 303, 303, 303, 303, 303, 303),
    ("GET", "/sign-in"): (200, 303, 303, 303, 303, 303, 303),
    ("POST", "/sign-in"): (401, 401, 401, 401, 401, 401, 401),
    ("POST", "/sign-out"): (303, 303, 303, 303, 303, 303, 303),
    ("GET", "/signed-out"): (200, 200, 200, 200, 200, 200, 200),
    ("POST", "/language"): (303, 303, 303, 303, 303, 303, 303),
    # A mail's link: anyone may open its page; its button's form without the page's token asks again (403).
    ("GET", "/sign-in/link/{secret}"): (200, 200, 200, 200, 200, 200, 200),
    ("POST", "/sign-in/link"): (403, 403, 403, 403, 403, 403, 403),
    ("GET", "/sign-in/mail"): (200, 200, 200, 200, 200, 200, 200),
    ("POST", "/sign-in/mail"): (200, 200, 200, 200, 200, 200, 200),
    # A student's own pages; a browser that is not signed in is sent to the sign-in page (303).
    ("GET", "/my-summaries"): (303, 200, 200, 200, 200, 200, 200),
    ("GET", "/my-evaluations"): (303, 200, 200, 200, 200, 200, 200),
    ("GET", "/my-evaluations/{evaluation_id}"): (303, 200, 200, 404, 404, 404, 404),
    ("POST", "/my-evaluations/{evaluation_id}/save"): (303, 303, 303, 404, 404, 404, 404),
    ("POST", "/my-evaluations/{evaluation_id}/submit"): (303, 303, 303, 404, 404, 404, 404),
    ("GET", "/my-evaluations/{evaluation_id}/submitted"): (303, 303, 303, 404, 404, 404, 404),
    # Staff pages: any teacher or admin in their own school.
    ("GET", "/evaluations"): (303, 403, 403, 200, 200, 200, 200),
    ("GET", "/evaluations/new"): (303, 403, 403, 200, 200, 200, 200),
    ("POST", "/evaluations/new"): (303, 403, 403, 303, 303, 303, 303),
    ("GET", "/import/templates/{which}.{extension}"): (303, 403, 403, 200, 200, 200, 200),
    ("GET", "/import"): (303, 403, 403, 200, 200, 200, 200),
    ("POST", "/import/check"): (303, 403, 403, 200, 200, 200, 200),
    ("POST", "/import"): (303, 403, 403, 303, 303, 303, 303),
    # Staff pages of one evaluation: staff of its school; another school's is not found.
    ("GET", "/evaluations/{evaluation_id}"): (303, 403, 403, 200, 404, 200, 404),
    ("GET", "/evaluations/{evaluation_id}/teams"): (303, 403, 403, 200, 404, 200, 404),
    ("GET", "/evaluations/{evaluation_id}/students/{student_id}"): (303, 403, 403, 200, 404, 200, 404),
    ("GET", "/evaluations/{evaluation_id}/class"): (303, 403, 403, 200, 404, 200, 404),
    ("POST", "/evaluations/{evaluation_id}/class"): (303, 403, 403, 303, 404, 303, 404),
    ("GET", "/evaluations/{evaluation_id}/archive"): (303, 403, 403, 200, 404, 200, 404),
    ("POST", "/evaluations/{evaluation_id}/archive"): (303, 403, 403, 303, 404, 303, 404),
    ("GET", "/evaluations/{evaluation_id}/times"): (303, 403, 403, 200, 404, 200, 404),
    ("POST", "/evaluations/{evaluation_id}/times"): (303, 403, 403, 303, 404, 303, 404),
    ("POST", "/evaluations/{evaluation_id}/close"): (303, 403, 403, 303, 404, 303, 404),
    ("GET", "/evaluations/{evaluation_id}/review"): (303, 403, 403, 200, 404, 200, 404),
    ("POST", "/evaluations/{evaluation_id}/review/{student_id}"): (303, 403, 403, 303, 404, 303, 404),
    ("POST", "/evaluations/{evaluation_id}/review"): (303, 403, 403, 303, 404, 303, 404),
    ("POST", "/evaluations/{evaluation_id}/release"): (303, 403, 403, 303, 404, 303, 404),
    ("GET", "/evaluations/{evaluation_id}/print"): (303, 403, 403, 200, 404, 200, 404),
    ("GET", "/evaluations/{evaluation_id}/progress"): (303, 403, 403, 200, 404, 200, 404),
    ("GET", "/evaluations/{evaluation_id}/progress.json"): (303, 403, 403, 200, 404, 200, 404),
    ("GET", "/evaluations/{evaluation_id}/remind"): (303, 403, 403, 200, 404, 200, 404),
    ("POST", "/evaluations/{evaluation_id}/remind"): (303, 403, 403, 303, 404, 303, 404),
    ("GET", "/evaluations/{evaluation_id}/mail"): (303, 403, 403, 200, 404, 200, 404),
    # A school's admins: their own school's teachers (the installation administrator is another school's admin).
    ("GET", "/school/teachers"): (303, 403, 403, 403, 403, 200, 200),
    ("POST", "/school/teachers"): (303, 403, 403, 403, 403, 303, 303),
    ("POST", "/school/teachers/{user_id}/disable"): (303, 403, 403, 403, 403, 303, 404),
    ("POST", "/school/teachers/{user_id}/enable"): (303, 403, 403, 403, 403, 303, 404),
    ("GET", "/school/teachers/{user_id}/given-feedback"): (303, 403, 403, 403, 403, 200, 404),
    ("POST", "/school/teachers/{user_id}/given-feedback"): (303, 403, 403, 403, 403, 303, 404),
    # The installation's administrators (INSTALLATION_ADMINS) only.
    ("GET", "/operations"): (303, 403, 403, 403, 403, 403, 200),
    ("POST", "/operations/jobs/{job_id}/retry"): (303, 403, 403, 403, 403, 403, 303),
    ("POST", "/operations/jobs/{job_id}/discard"): (303, 403, 403, 403, 403, 403, 303),
    ("GET", "/installation/schools"): (303, 403, 403, 403, 403, 403, 200),
    ("POST", "/installation/schools"): (303, 403, 403, 403, 403, 403, 200),
}

# What a request sends besides its path, where the route reads more: enough for a role let through to succeed.
SCHEDULE = {"name": "Mondays", "cron": "0 8 * * mon", "evaluation_id": EVALUATION}
BODIES: dict[tuple[str, str], dict] = {
    ("POST", "/api/v1/evaluations"): {"json": {"title": "New", "criteria": [{"name": "Effort"}]}},
    ("POST", "/api/v1/evaluations/import"): {
        "data": {"evaluation": "Imported"}, "files": {"file": ("feedback.csv", EXAMPLE_CSV.read_bytes())}
    },
    ("PATCH", "/api/v1/evaluations/{evaluation_id}"): {"json": {"title": "Renamed"}},
    ("POST", "/api/v1/scheduled-jobs"): {"json": SCHEDULE},
    ("POST", API + "/scheduled-jobs"): {"json": SCHEDULE},
    ("PATCH", "/api/v1/scheduled-jobs/{schedule_id}"): {"json": {"enabled": False}},
    ("PATCH", API + "/scheduled-jobs/{schedule_id}"): {"json": {"enabled": False}},
    ("POST", "/language"): {"data": {"language": "nl"}},
    ("POST", "/sign-in/mail"): {"data": {"email": "jan@example.com"}},
    ("POST", "/evaluations/new"): {"data": {
        "title": "Projectweek", "language": "nl", "criteria_set": "Teamwork", "scale": "5", "opens_date": "2031-03-02",
        "opens_time": "08:30", "closes_date": "2031-03-09", "closes_time": "17:00", "remind_hours_before": "24",
        "class_rows": NEW_CLASS,
    }},
    ("POST", "/import/check"): {"data": {"evaluation": "Imported"}, "files": {"file": ("f.csv", EXAMPLE_CSV.read_bytes())}},
    ("POST", "/import"): {"data": {"evaluation": "Imported"}, "files": {"file": ("f.csv", EXAMPLE_CSV.read_bytes())}},
    ("POST", "/evaluations/{evaluation_id}/release"): {"data": {"mode": "automatic"}},
    ("POST", "/evaluations/{evaluation_id}/times"): {"data": {"closes_date": "2031-03-09", "closes_time": "17:00"}},
    ("POST", "/school/teachers"): {"data": {"email": "nieuw@docent.example", "name": "Nieuwe Docent"}},
    ("POST", "/installation/schools"): {"data": {
        "name": "Nieuwe School", "admin_name": "Nieuwe Beheerder", "admin_email": "beheer@nieuw.example"
    }},
}


@dataclass
class World:
    app: FastAPI
    clients: dict[str, TestClient]
    ids: dict[str, object]  # what fills each path parameter
    bodies: dict[tuple[str, str], dict]
    database: Path
    copy: Path

    def send(self, role: str, method: str, path: str, **options) -> Response:
        """The request, then the world as it was: the database as built (through SQLite itself, so the app's
        open connections read it at once) and the browser's cookies (a sign-out or a followed link changes them)."""
        client = self.clients[role]
        cookies = list(client.cookies.jar)
        try:
            return client.request(method, path, **options)
        finally:
            client.cookies.jar.clear()
            for cookie in cookies:
                client.cookies.jar.set_cookie(cookie)
            with sqlite3.connect(self.copy) as source, sqlite3.connect(self.database) as target:
                source.backup(target)


@pytest.fixture(scope="module")
def world(tmp_path_factory, redis_server_url) -> World:
    folder = tmp_path_factory.mktemp("access")
    database = folder / "world.db"
    upgrade(f"sqlite:///{database}")
    redis_url = f"{redis_server_url}/0"
    connect(redis_url).flushdb()
    settings = make_settings(
        f"sqlite:///{database}", redis_url, folder,
        installation_admins=EMAILS["installation_admin"], web_events_max=1, smtp_url="smtp://127.0.0.1:1",
    )
    with session_scope(settings.database_url) as session:
        seed_demo(session)
        for school_name, email, role in (("Andere School", EMAILS["other_teacher"], Role.teacher),
                                         ("Installatie", EMAILS["installation_admin"], Role.admin)):
            school = School(name=school_name)
            session.add(school)
            session.flush()
            session.add(User(email=email, name=email.split("@")[0], role=role, school_id=school.id))
        # A teacher whose access ended: the one an admin gives it back to.
        former = User(email="oud@example.com", name="Oud Docent", role=Role.teacher,
                      school_id=session.get(User, TEACHER).school_id, disabled_at=utcnow())
        session.add(former)
        store_summary(session, EVALUATION, STUDENT)
        open_job = SummaryJob(
            job_id=new_job_id(EVALUATION, STUDENT), evaluation_id=EVALUATION, student_id=STUDENT,
            open_key=SummaryJob.open_key_for(EVALUATION, STUDENT),
        )
        session.add(open_job)
        schedule = schedules.create(
            session, settings, school_id=session.get(User, TEACHER).school_id, evaluation_id=EVALUATION,
            name="Fridays", cron="0 16 * * fri", student_ids=None, enabled=True, created_by_id=TEACHER,
        )
        link = sign_in_links.create(session, session.get(User, STUDENT), "/", timedelta(hours=1))
        # A score jan may give: one of his reviewees, on the evaluation's first criterion.
        reviewee = session.scalar(select(Allocation.reviewee_id).where(
            Allocation.evaluation_id == EVALUATION, Allocation.reviewer_id == STUDENT, ~Allocation.is_self))
        criterion = session.scalar(select(Criterion.id).where(Criterion.evaluation_id == EVALUATION))
        session.flush()
        former_id = former.id
        ids = {"evaluation_id": EVALUATION, "student_id": STUDENT, "job_id": open_job.job_id, "user_id": TEACHER,
               "schedule_id": schedule.id, "secret": link.secret, "which": "class-list", "extension": "csv"}
    with session_scope(settings.database_url) as session:
        failed = failed_job(session, connect(redis_url), settings, EVALUATION, 20).job_id
    app = create_app(settings, redis=connect(redis_url))
    # The server's one live-stream place is held, so the events stream answers a role it lets through with 429.
    app.state.event_streams.take(0)
    clients = {"anonymous": TestClient(app, follow_redirects=False, headers={"Accept-Language": "en"})}
    for role, email in EMAILS.items():
        client = TestClient(app, headers={"Accept-Language": "en"})
        csrf = sign_in(client, email)
        client.headers.update({"X-User-Email": email, "X-CSRF-Token": csrf})
        client.follow_redirects = False  # a cell sees the page's own answer, e.g. the redirect to sign in
        clients[role] = client
    score = {"reviewee_id": reviewee, "criterion_id": criterion, "score": 3}
    bodies = {
        **BODIES,
        ("POST", "/api/v1/evaluations/{evaluation_id}/scores"): {"json": {"scores": [score]}},
        ("POST", "/my-evaluations/{evaluation_id}/save"): {"data": {f"score-{reviewee}-{criterion}": "3"}},
        ("POST", "/my-evaluations/{evaluation_id}/submit"): {"data": {f"score-{reviewee}-{criterion}": "3"}},
        ("POST", "/school/teachers/{user_id}/enable"): {"path": {"user_id": former_id}},
        ("POST", "/sign-in/link"): {"data": {"secret": ids["secret"]}},
        # The failed job: what the operations page retries and discards.
        ("POST", "/operations/jobs/{job_id}/retry"): {"path": {"job_id": failed}},
        ("POST", "/operations/jobs/{job_id}/discard"): {"path": {"job_id": failed}},
    }
    copy = folder / "world-as-built.db"
    with sqlite3.connect(database) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    yield World(app, clients, ids, bodies, database, copy)
    for client in clients.values():
        client.close()
    connect(redis_url).flushdb()


def test_every_route_of_the_app_has_a_line_in_the_table(world: World):
    routes = {
        (method, route.path)
        for route in iter_route_contexts(world.app.routes)
        for method in (route.methods or ())  # a mount (static files, the docs' assets) has none
        if method != "HEAD"  # Starlette adds HEAD to a GET route; it answers as the GET does
    }
    missing = sorted(routes - ACCESS.keys())
    assert not missing, (
        "routes without a line in ACCESS (tests/integration/test_access_matrix.py), "
        "say who may call them:\n" + "\n".join(f"    {method} {path}" for method, path in missing)
    )
    gone = sorted(ACCESS.keys() - routes)
    assert not gone, "lines in ACCESS for routes the app no longer has:\n" + "\n".join(f"    {m} {p}" for m, p in gone)


@pytest.mark.parametrize(
    ("route", "role"),
    [(route, role) for route in ACCESS for role in ROLES],
    ids=[f"{method} {path} as {role}" for method, path in ACCESS for role in ROLES],
)
def test_each_role_gets_the_status_the_table_says(world: World, route: tuple[str, str], role: str):
    method, template = route
    options = dict(world.bodies.get(route, {}))
    path = template.format(**{**world.ids, **options.pop("path", {})})
    answer = world.send(role, method, path, **options)
    expected = ACCESS[route][ROLES.index(role)]
    assert answer.status_code == expected, (
        f"{method} {template} as {role}: {answer.status_code}, the table says {expected}\n{answer.text[:500]}"
    )
    # A form refused in words redirects too, with its notice marked as an error: that is no 303 the table means.
    notice = unquote(answer.cookies.get(FLASH_COOKIE, ""))
    assert not notice.startswith("!"), f"{method} {template} as {role}: redirected with the error {notice[1:]!r}"
