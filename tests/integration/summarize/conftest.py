"""The quality corpus, imported once per test session into its own SQLite database; a fake LLM to run it through."""

from __future__ import annotations

import pytest

from peerdigest.config import Settings
from peerdigest.db.migrate import upgrade
from peerdigest.db.session import engine_for, session_scope
from peerdigest.domain.received import ReceivedFeedback
from peerdigest.summarize.llm import LLMSummarizer
from tests.support.corpus import corpus_sets, load, received
from peerdigest.testing.fake_llm import FakeLLM, careful_model


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> dict[str, dict[str, ReceivedFeedback]]:
    """Set name -> student email -> the anonymized feedback that student received."""
    url = f"sqlite:///{tmp_path_factory.mktemp('corpus') / 'corpus.db'}"
    upgrade(url)
    with session_scope(url) as session:
        loaded = {corpus_set.name: received(session, load(session, corpus_set)) for corpus_set in corpus_sets()}
    engine_for(url).dispose()
    return loaded


@pytest.fixture(scope="module")
def fake_llm_server():
    server = FakeLLM(default=careful_model).start()
    yield server
    server.stop()


@pytest.fixture
def fake_llm(fake_llm_server):
    """A local OpenAI-compatible server answering like a careful model unless a test scripts otherwise."""
    fake_llm_server.script.clear()
    fake_llm_server.requests.clear()
    return fake_llm_server


@pytest.fixture(scope="module")
def llm(fake_llm_server) -> LLMSummarizer:
    """The LLM summarizer as a worker builds it, pointed at the fake server (one client: building one is slow)."""
    return LLMSummarizer.from_settings(
        Settings(_env_file=None, llm_base_url=fake_llm_server.base_url, llm_model="fake-model", llm_timeout=5)
    )
