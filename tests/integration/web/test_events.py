"""The evaluation's live events stream and its one-look twin, against a real API, worker, Redis and database."""

import json

import httpx
import pytest

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
