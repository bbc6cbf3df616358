"""The second provider behind the seam: Ollama's own API (LLM_PROVIDER=ollama), against the fake server's /api/chat.

The summarizer is the same object as for the OpenAI API; only the request, the answer and the error shapes
differ, and the provider turns them into the same outcomes.
"""

import pytest

from peerdigest.config import Settings
from peerdigest.summarize import TransientSummaryError, provider
from peerdigest.summarize.llm import LLMSummarizer
from peerdigest.testing.fake_llm import Reply


@pytest.fixture
def late_deliverer(corpus):
    return corpus["en-01-late-deliverer"]["oliver.patel@school.example.org"]


@pytest.fixture
def ollama_settings(fake_llm):
    return Settings(_env_file=None, llm_provider="ollama", llm_base_url=fake_llm.ollama_url, llm_model="fake-model",
                    llm_timeout=5)


@pytest.fixture
def ollama(ollama_settings):
    return LLMSummarizer.from_settings(ollama_settings)


def test_a_summary_through_ollamas_own_api(ollama, fake_llm, late_deliverer):
    summary = ollama.summarize(late_deliverer)
    assert summary.generation_method == "ai" and summary.model == "fake-model"
    [request] = fake_llm.requests
    assert request["stream"] is False and request["options"]["num_predict"] == 450 and request["options"]["seed"] == 7
    assert [m["role"] for m in request["messages"]] == ["system", "user"]
    assert "Oliver" not in str(request), "names never leave the process, whichever provider"


@pytest.mark.parametrize("status", [500, 503, 429])
def test_a_server_that_may_recover_is_left_to_the_queue(ollama, fake_llm, late_deliverer, status):
    fake_llm.then(Reply(status=status))
    with pytest.raises(TransientSummaryError, match=f"HTTP {status} from the Ollama server"):
        ollama.summarize(late_deliverer, final_attempt=False)


def test_a_server_that_will_not_recover_falls_back_at_once(ollama, fake_llm, late_deliverer):
    fake_llm.then(Reply(status=404))
    summary = ollama.summarize(late_deliverer, final_attempt=False)
    assert (summary.generation_method, summary.fallback_reason) == (
        "fallback", "the LLM request failed: HTTP 404 from the Ollama server")


def test_the_provider_lists_the_servers_models_for_doctor(ollama_settings):
    assert provider.for_settings(ollama_settings).models() == ["fake-model"]


def test_no_url_means_no_model_whatever_the_provider():
    assert not provider.configured(Settings(_env_file=None, llm_provider="ollama"))
