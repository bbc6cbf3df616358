"""The evaluation's live events stream and its one-look twin, against a real API, worker, Redis and database."""

import json
from collections.abc import Iterator
from contextlib import ExitStack

import httpx
import pytest
from sqlalchemy import select

from peerdigest.db.models import School, User
from peerdigest.db.session import session_scope

from peerdigest.dev.embedded_redis import free_port
from peerdigest.testing.fake_llm import FakeLLM, Reply, reply_with_sentences
from peerdigest.testing.serving import wait_until_serving
from tests.conftest import start_cli
from tests.support.api import PREFIX, STUDENT_19, TEACHER, api_client


def test_the_states_list_every_student_with_where_their_summary_stands(demo_school):
    client = api_client(demo_school)
    states = client.get(f"{PREFIX}/evaluation/56/states", headers=TEACHER).json()
    assert len(states) == 8
    jan = next(s for s in states if s["name"] == "Jan de Vries")
    assert jan["state"] == "none" and jan["team"] == "Team Noord" and jan["comments"] > 0

    job_id = client.post(f"{PREFIX}/evaluation/56/student/19/queue", headers=TEACHER).json()["job_id"]
    jan = next(s for s in client.get(f"{PREFIX}/evaluation/56/states", headers=TEACHER).json() if s["student_id"] == 19)
    assert (jan["state"], jan["job_id"], jan["job_open"]) == ("queued", job_id, True)

    client.post(f"{PREFIX}/jobs/{job_id}/cancel", headers=TEACHER)
    jan = next(s for s in client.get(f"{PREFIX}/evaluation/56/states", headers=TEACHER).json() if s["student_id"] == 19)
    assert (jan["state"], jan["job_open"]) == ("cancelled", False)


def test_students_and_other_schools_get_no_events(demo_school, other_school_teacher):
    client = api_client(demo_school)
    assert client.get(f"{PREFIX}/evaluation/56/events", headers=STUDENT_19).status_code == 403
    assert client.get(f"{PREFIX}/evaluation/56/events", headers=other_school_teacher).status_code == 404
    assert client.get(f"{PREFIX}/evaluation/56/states", headers=STUDENT_19).status_code == 403


@pytest.fixture
def slow_llm():
    # Each summary takes a few seconds, so "processing" lasts many of the stream's looks.
    llm = FakeLLM(default=lambda request: Reply(reply_with_sentences(request).text, delay=3)).start()
    yield llm
    llm.stop()


@pytest.mark.slow
def test_the_stream_delivers_queued_processing_completed_for_a_job(process_demo_school, slow_llm):
    settings = process_demo_school.model_copy(
        update={"llm_base_url": slow_llm.base_url, "llm_model": "fake-model", "web_events_interval": 0.2}
    )
    port = free_port()
    api = start_cli(settings, "api", "--port", str(port))
    worker = None
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_serving(base, api)
        job_id = httpx.post(f"{base}{PREFIX}/evaluation/57/student/19/queue", headers=TEACHER).json()["job_id"]
        seen = []
        with httpx.stream("GET", f"{base}{PREFIX}/evaluation/57/events", headers=TEACHER, timeout=30) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            for line in stream.iter_lines():
                if not line.startswith("data:"):
                    continue
                state = json.loads(line.removeprefix("data:"))
                if state["job_id"] != job_id:
                    continue
                if not seen or seen[-1] != state["state"]:  # progress moves within "processing", too
                    seen.append(state["state"])
                if worker is None:
                    worker = start_cli(settings, "worker")  # only now, so the stream sees the job waiting first
                if state["state"] in ("completed", "failed"):
                    break
        assert seen == ["queued", "processing", "completed"]
    finally:
        for process in (api, worker):
            if process is not None:
                process.terminate()
                process.wait(30)


def _first_event(lines: Iterator[str]) -> dict:
    # `lines` is kept by the caller: dropping httpx's line iterator half-way closes the stream.
    for line in lines:
        if line.startswith("data:"):
            return json.loads(line.removeprefix("data:"))
    raise AssertionError("the stream ended without an event")


@pytest.mark.slow
def test_fifty_open_streams_leave_the_database_to_everyone_else(process_demo_school):
    """Each stream reads in short sessions of its own: 50 open ones (more than the pool's 5 + 10 connections)
    take nothing from another school's requests. Past its caps a stream is refused with 429 and a sentence."""
    settings = process_demo_school.model_copy(
        update={"web_events_interval": 0.5, "web_events_max_per_user": 50, "web_events_max": 52,
                "rate_limit_status": "1000/minute"}
    )
    with session_scope(settings.database_url) as session:
        demo = session.scalar(select(User).where(User.email == "docent@example.com")).school_id
        other = School(name="Andere School")
        session.add(other)
        session.flush()
        session.add_all([
            User(email="juf@andere.example", name="Juf Ander", role="teacher", school_id=other.id),
            User(email="collega@example.com", name="Collega", role="teacher", school_id=demo),
        ])
    other_teacher, colleague = {"X-User-Email": "juf@andere.example"}, {"X-User-Email": "collega@example.com"}
    port = free_port()
    api = start_cli(settings, "api", "--port", str(port))
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_serving(base, api)
        url = f"{base}{PREFIX}/evaluation/56/events"
        with httpx.Client(timeout=60) as others, httpx.Client(timeout=60) as client, ExitStack() as streams:
            reading = []
            for _ in range(50):
                stream = streams.enter_context(client.stream("GET", url, headers=TEACHER))
                assert stream.status_code == 200
                reading.append(stream.iter_lines())
                assert _first_event(reading[-1])["student_id"]
            for _ in range(5):  # another school's teacher, while all 50 are open and looking
                assert others.get(f"{base}/api/v1/evaluations", headers=other_teacher).status_code == 200
            over_user = others.get(url, headers=TEACHER)
            assert over_user.status_code == 429 and "at most 50" in over_user.json()["detail"]
            for _ in range(2):
                streams.enter_context(client.stream("GET", url, headers=colleague))
            over_process = others.get(url, headers=colleague)
            assert over_process.status_code == 429 and "server" in over_process.json()["detail"]
            assert others.get(f"{base}/api/v1/evaluations", headers=other_teacher).status_code == 200
        # Closed streams give their places back.
        with httpx.stream("GET", url, headers=TEACHER, timeout=60) as again:
            assert again.status_code == 200
    finally:
        api.terminate()
        api.wait(30)
