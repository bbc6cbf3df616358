"""The LLM summarizer against a local OpenAI-compatible server: the request it sends, and each way the endpoint fails."""

import socket

import pytest

from peerdigest.config import Settings
from peerdigest.summarize import TransientSummaryError
from peerdigest.summarize.llm import LLMSummarizer
from peerdigest.summarize.prompt import PROMPT_VERSION
from peerdigest.testing.fake_llm import Reply


@pytest.fixture
def late_deliverer(corpus):
    return corpus["en-01-late-deliverer"]["oliver.patel@school.example.org"]


def test_one_request_with_the_instructions_and_the_data_apart(llm, fake_llm, late_deliverer):
    summary = llm.summarize(late_deliverer)

    assert summary.generation_method == "ai" and summary.prompt_version == PROMPT_VERSION and summary.model == "fake-model"
    [request] = fake_llm.requests
    assert request["model"] == "fake-model" and request["temperature"] == 0.2
    system, user = request["messages"]
    assert system["role"] == "system" and "Write in English" in system["content"]
    assert "handed in his part" not in system["content"]
    assert user["content"].startswith("<feedback_data>\n") and "handed in his part after the deadline" in user["content"]
    assert "Oliver" not in str(request) and "Patel" not in str(request), "names never leave the process"


def test_an_order_in_a_comment_never_reaches_the_model(corpus, llm, fake_llm):
    received = corpus["en-09-ignore-instructions"]["noah.williams@school.example.org"]
    llm.summarize(received)
    sent = str(fake_llm.requests)
    assert "Ignore all previous instructions" not in sent and "worst student" not in sent
    assert "His calculations were very accurate." in sent, "the honest feedback around it still goes"


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_an_endpoint_that_may_recover_is_left_to_the_queue_to_retry(llm, fake_llm, late_deliverer, status):
    fake_llm.then(Reply(status=status))
    with pytest.raises(TransientSummaryError, match=f"HTTP {status}"):
        llm.summarize(late_deliverer, final_attempt=False)


@pytest.mark.parametrize("status", [500, 429])
def test_on_the_final_attempt_a_failing_endpoint_gives_the_builtin_summary(llm, fake_llm, late_deliverer, status):
    fake_llm.then(Reply(status=status))
    summary = llm.summarize(late_deliverer, final_attempt=True)
    assert summary.generation_method == "fallback"
    assert summary.fallback_reason == f"the LLM request failed: HTTP {status} from the LLM endpoint"
    assert "effort" in summary.summary_text and summary.model is None


@pytest.mark.parametrize("status", [400, 401, 404])
def test_an_endpoint_that_will_not_recover_falls_back_at_once(llm, fake_llm, late_deliverer, status):
    fake_llm.then(Reply(status=status))
    summary = llm.summarize(late_deliverer, final_attempt=False)
    assert summary.generation_method == "fallback" and f"HTTP {status}" in summary.fallback_reason
    assert len(fake_llm.requests) == 1


def test_a_model_that_does_not_answer_in_time_is_transient(fake_llm, late_deliverer):
    slow = LLMSummarizer.from_settings(Settings(_env_file=None, llm_base_url=fake_llm.base_url, llm_timeout=0.3))
    fake_llm.then(Reply("Too late.", delay=2), Reply("Too late.", delay=2))
    with pytest.raises(TransientSummaryError, match="no answer within LLM_TIMEOUT"):
        slow.summarize(late_deliverer, final_attempt=False)
    assert slow.summarize(late_deliverer).fallback_reason == "the LLM request failed: no answer within LLM_TIMEOUT"


def test_an_endpoint_nobody_listens_on_is_transient(late_deliverer):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again when the block ends: nothing listens there
    nowhere = LLMSummarizer.from_settings(Settings(_env_file=None, llm_base_url=f"http://127.0.0.1:{port}/v1"))
    with pytest.raises(TransientSummaryError, match="could not connect"):
        nowhere.summarize(late_deliverer, final_attempt=False)
    assert nowhere.summarize(late_deliverer).generation_method == "fallback"


def test_a_failure_on_the_second_request_is_still_left_to_the_queue(llm, fake_llm, late_deliverer):
    fake_llm.then(Reply("I'm sorry, I can't help with that."), Reply(status=503))
    with pytest.raises(TransientSummaryError):
        llm.summarize(late_deliverer, final_attempt=False)


def test_no_comments_means_no_request(corpus, llm, fake_llm):
    summary = llm.summarize(corpus["en-13-no-comments"]["ruby.bennett@school.example.org"])
    assert summary.generation_method == "empty" and fake_llm.requests == []
