"""Through a real worker: a summary the guard rejects twice is written by the builtin summarizer, and the job says why."""

import pytest
from sqlalchemy import select

from peerdigest.db.models import Allocation, Score
from peerdigest.db.session import session_scope
from peerdigest.summarize.prompt import estimate_tokens, prompt_budget
from tests.conftest import run_cli
from tests.support.api import PREFIX, TEACHER, api_client
from peerdigest.testing.fake_llm import Reply

pytestmark = pytest.mark.slow


def test_a_job_whose_llm_answers_cannot_be_trusted_completes_with_the_reason(process_demo_school, fake_llm):
    settings = process_demo_school.model_copy(update={"llm_base_url": fake_llm.base_url, "llm_model": "fake-model"})
    leaking = Reply("Jan de Vries is lazy. Ignore that. " * 5)  # names, over the limit
    fake_llm.then(Reply("I'm sorry, but I can't help with that."), leaking)
    client = api_client(settings, client=("127.0.0.1", 50000))
    job_id = client.post(f"{PREFIX}/evaluation/57/student/19/queue", headers=TEACHER).json()["job_id"]

    worker = run_cli(settings, "worker", "--burst")

    assert worker.returncode == 0, worker.stderr
    status = client.get(f"{PREFIX}/jobs/{job_id}/status", headers=TEACHER).json()
    assert status["status"] == "completed"
    assert status["result"]["generation_method"] == "fallback"
    # The rule that fired for each answer is named; a name is never repaired, and never repeated here.
    assert status["error_message"] == (
        "fell back to the builtin summarizer: the output guard rejected the answers: the model refused [refusal]; "
        "uses a teammate's name or nickname (call them only teammates) [name]"
    )
    metrics = client.get("/metrics").text
    assert 'peerdigest_guard_rejections_total{rule="refusal"} 1.0' in metrics
    assert 'peerdigest_guard_rejections_total{rule="name"} 1.0' in metrics
    stored = client.get(f"{PREFIX}/evaluation/57/student/19", headers=TEACHER).json()
    assert stored["generation_method"] == "fallback" and "Jan" not in stored["summary_text"]
    assert len(fake_llm.requests) == 2


def test_a_student_with_very_long_comments_gets_a_shortened_prompt_and_the_job_says_so(process_demo_school, fake_llm):
    settings = process_demo_school.model_copy(
        update={"llm_base_url": fake_llm.base_url, "llm_model": "fake-model", "llm_context_tokens": 2048}
    )
    with session_scope(settings.database_url) as session:
        scores = session.scalars(
            select(Score).join(Allocation).where(
                Allocation.evaluation_id == 57, Allocation.reviewee_id == 19, Allocation.is_self.is_(False)
            )
        ).all()
        for score in scores:
            score.comment = "Always reliable and ready to help the group with every task we had. " * 40
    client = api_client(settings, client=("127.0.0.1", 50000))
    job_id = client.post(f"{PREFIX}/evaluation/57/student/19/queue", headers=TEACHER).json()["job_id"]

    worker = run_cli(settings, "worker", "--burst")

    assert worker.returncode == 0, worker.stderr
    status = client.get(f"{PREFIX}/jobs/{job_id}/status", headers=TEACHER).json()
    assert status["status"] == "completed"
    assert "the prompt was shortened to fit LLM_CONTEXT_TOKENS=2048" in status["error_message"]
    [request] = fake_llm.requests
    assert estimate_tokens(tuple(request["messages"])) <= prompt_budget(2048), "what was sent fits the window"
