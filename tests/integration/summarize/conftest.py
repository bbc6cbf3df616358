"""The quality corpus, imported once per test session into its own SQLite database; a fake LLM to run it through."""

from __future__ import annotations

import json
import re

import pytest

from peerdigest.config import Settings
from peerdigest.db.migrate import upgrade
from peerdigest.db.session import engine_for, session_scope
from peerdigest.domain.feedback import ReceivedFeedback
from peerdigest.summarize.llm import LLMSummarizer
from tests.support.corpus import corpus_sets, load, received
from peerdigest.testing.fake_llm import FakeLLM, Reply


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> dict[str, dict[str, ReceivedFeedback]]:
    """Set name -> student email -> the anonymized feedback that student received."""
    url = f"sqlite:///{tmp_path_factory.mktemp('corpus') / 'corpus.db'}"
    upgrade(url)
    with session_scope(url) as session:
        loaded = {corpus_set.name: received(session, load(session, corpus_set)) for corpus_set in corpus_sets()}
    engine_for(url).dispose()
    return loaded


def careful_model(request: dict) -> Reply:
    """A stand-in for a model that follows the prompt: it reads the data block and nothing else.

    Strengths first (the best-scored criterion), the clearly weakest criterion
    as the point to work on, one tip; in the language the data asks for.
    """
    user = next(m["content"] for m in request["messages"] if m["role"] == "user")
    data = json.loads(re.search(r"<feedback_data>\n(.*?)\n</feedback_data>", user, re.S).group(1))
    scores = sorted(data["scores"], key=lambda s: s["average"])
    weakest = scores[0]["criterion"] if len(scores) > 1 and scores[0]["average"] <= scores[1]["average"] - 0.75 else None
    if data["language"] == "nl":
        text = [f"Je teamgenoten waarderen vooral je {scores[-1]['criterion'].lower()}." if scores
                else "Je teamgenoten zijn tevreden over je bijdrage aan het project."]
        if weakest:
            text.append(f"Een punt om aan te werken is {weakest.lower()}.")
        text.append("Een tip: bespreek aan het begin van elke week met je groep wie wat doet.")
    else:
        text = [f"Your teammates especially value your {scores[-1]['criterion'].lower()}." if scores
                else "Your teammates are happy with your contribution to the project."]
        if weakest:
            text.append(f"One point to work on is {weakest.lower()}.")
        text.append("A tip: at the start of each week, agree with your group who does what.")
    return Reply(" ".join(text))


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
