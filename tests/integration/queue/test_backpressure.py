"""An LLM endpoint that answers 429/503: every worker holds off together, and no attempt is spent on it."""

from __future__ import annotations

import pytest

from peerdigest.db.session import session_scope
from peerdigest.domain.feedback import anonymize, collect
from peerdigest.queue.backpressure import KEY, SharedPause
from peerdigest.summarize import TransientSummaryError, for_settings
from peerdigest.testing.fake_llm import FakeLLM, Reply, reply_with_sentences


@pytest.fixture
def received(process_demo_school):
    with session_scope(process_demo_school.database_url) as session:
        return anonymize(collect(session, 56, 19))


@pytest.fixture
def pause_at_arrival(redis):
    """Milliseconds the shared pause still had to run when each request reached the server (<= 0: none)."""
    return []


@pytest.fixture
def fake_llm(redis, pause_at_arrival):
    def answer(request: dict) -> Reply:
        pause_at_arrival.append(redis.pttl(KEY))
        return reply_with_sentences(request)

    server = FakeLLM(default=answer).start()
    yield server
    server.stop()


def _llm_settings(settings, fake_llm, **overrides):
    return settings.model_copy(update={"llm_base_url": fake_llm.base_url, "llm_model": "fake-model", **overrides})


@pytest.mark.parametrize("status", [429, 503])
def test_a_turned_away_request_is_sent_again_after_the_pause_it_asked_for(
    process_demo_school, redis, fake_llm, pause_at_arrival, received, status
):
    settings = _llm_settings(process_demo_school, fake_llm)
    fake_llm.then(Reply(status=status, retry_after=1))
    pause = SharedPause(redis, settings, holder="job-a")

    summary = for_settings(settings, pause).summarize(received, final_attempt=False)

    assert summary.fallback_reason is None or "request failed" not in summary.fallback_reason
    assert fake_llm.requests and fake_llm.overloaded == 0
    assert pause.waited > 0, "the job waited out the pause instead of raising for a retry"
    assert all(left <= 0 for left in pause_at_arrival), "nothing was sent while the pause was in force"


def test_one_workers_pause_holds_every_other_worker_back(process_demo_school, redis, fake_llm, pause_at_arrival, received):
    settings = _llm_settings(process_demo_school, fake_llm)
    assert SharedPause(redis, settings, holder="job-a").hold_off(1)
    other = SharedPause(redis, settings, holder="job-b")

    for_settings(settings, other).summarize(received, final_attempt=False)

    assert other.waited > 0
    assert pause_at_arrival and all(left <= 0 for left in pause_at_arrival)


def test_a_longer_pause_is_never_shortened(process_demo_school, redis):
    SharedPause(redis, process_demo_school, holder="job-a").hold_off(30)
    SharedPause(redis, process_demo_school, holder="job-b").hold_off(1)
    assert redis.pttl(KEY) > 1000


def test_after_waiting_llm_overload_max_wait_the_attempt_fails_as_transient(process_demo_school, redis, fake_llm, received):
    settings = _llm_settings(process_demo_school, fake_llm, llm_overload_max_wait=1)
    fake_llm.overload(60, status=429, retry_after=5)

    with pytest.raises(TransientSummaryError, match="HTTP 429"):
        for_settings(settings, SharedPause(redis, settings, holder="job-a")).summarize(received, final_attempt=False)
    assert len(fake_llm.requests) == 2, "one more request after the one second the job may wait, then it gives up"
    assert 0 < redis.pttl(KEY) <= 1000, "the other workers still hold off, for at most LLM_OVERLOAD_MAX_WAIT"

    redis.delete(KEY)
    last = for_settings(settings, SharedPause(redis, settings, holder="job-a")).summarize(received, final_attempt=True)
    assert last.generation_method == "fallback" and "HTTP 429" in last.fallback_reason
