"""Summaries written by a model: any OpenAI-compatible chat endpoint (Ollama, vLLM, llama.cpp, OpenAI), or a
server's own API, through a `provider.Provider`.

One request per summary, plus at most one more when the output guard rejects
the answer; then the builtin summarizer writes it (generation method "fallback", with the
reason). When the endpoint itself fails in a way that may pass (timeout,
connection, 429, 5xx), an attempt that is not the job's last raises
`TransientSummaryError` so the queue retries later with back-off; the last
attempt falls back instead.

An endpoint that says it is overloaded (429, 503: Ollama's "server busy", a
full vLLM queue) is a different case when a `Backpressure` is given: every
worker is asked to hold off for the `Retry-After` the endpoint named, and the
same request is sent again after it, without spending one of the job's
attempts, until the job has waited `Backpressure.hold_off` allows.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from typing import Protocol

from peerdigest.config import Settings
from peerdigest.domain.received import ReceivedFeedback
from peerdigest.summarize import GenerationMethod, Summary, TransientSummaryError, guard, provider
from peerdigest.summarize.builtin import BuiltinSummarizer
from peerdigest.summarize.guard import Verdict
from peerdigest.summarize.injection import Screened, screen
from peerdigest.summarize.prompt import (
    MAX_TOKENS,
    TEMPERATURE,
    Prompt,
    build,
)
from peerdigest.summarize.provider import Completion, Provider, ProviderError

log = logging.getLogger(__name__)

GUARD_RETRIES = 1
DEFAULT_HOLD_OFF = 5.0  # seconds, when an overloaded endpoint does not say how long (no Retry-After)


class Backpressure(Protocol):
    """What an overloaded endpoint's answers are told to: the queue's shared pause (queue/backpressure.py)."""

    def wait(self) -> None:
        """Return once no pause is in force; block until then."""
        ...

    def hold_off(self, seconds: float) -> bool:
        """The endpoint asked for `seconds` of rest: pause every caller; False when this one should give up."""
        ...


@dataclass(frozen=True)
class Exchange:
    """One request and what came of it: an answer with the guard's verdict, or an error."""

    prompt: Prompt
    answer: str | None = None
    verdict: Verdict | None = None
    error: str | None = None


@dataclass(frozen=True)
class Outcome:
    """A summary and how it came about, for `peerdigest preview`."""

    summary: Summary
    screened: Screened
    prompt: Prompt
    attempts: tuple[Exchange, ...]


class LLMSummarizer:
    def __init__(
        self,
        provider: Provider,
        model: str,
        backpressure: Backpressure | None = None,
        context_tokens: int | None = None,
    ):
        self.provider = provider
        self.model = model
        self.backpressure = backpressure
        self.context_tokens = context_tokens
        self.fallback = BuiltinSummarizer()

    @classmethod
    def from_settings(cls, settings: Settings, backpressure: Backpressure | None = None) -> LLMSummarizer:
        return cls(provider.for_settings(settings), settings.llm_model, backpressure, settings.llm_context_tokens)

    def summarize(self, feedback: ReceivedFeedback, *, final_attempt: bool = True) -> Summary:
        return self.run(feedback, final_attempt=final_attempt).summary

    def run(self, feedback: ReceivedFeedback, *, final_attempt: bool = True) -> Outcome:
        """Screen, ask, guard, ask once more if needed, else fall back; with every attempt recorded."""
        started = time.monotonic()
        screened = screen(feedback)
        prompt = build(screened.feedback, self.context_tokens)
        if prompt.trimmed:
            log.info("%s", prompt.trimmed)
        if not screened.feedback.comments:
            return Outcome(self.fallback.summarize(feedback), screened, prompt, ())
        attempts: list[Exchange] = []
        request = prompt
        for _ in range(1 + GUARD_RETRIES):
            try:
                completion = self.complete(request)
            except ProviderError as exc:
                problem = exc.problem
                if exc.transient and not final_attempt:
                    log.warning("LLM request failed (%s); the job will be retried", problem)
                    raise TransientSummaryError(problem) from exc
                attempts.append(Exchange(request, error=problem))
                return self._fall_back(feedback, started, f"the LLM request failed: {problem}", screened, prompt, attempts)
            verdict = guard.check(completion.text, screened=screened, prompt=prompt, finish_reason=completion.finish_reason)
            attempts.append(Exchange(request, answer=completion.text, verdict=verdict))
            if verdict.accepted:
                summary = Summary(verdict.text, GenerationMethod.ai, _ms_since(started), self.model, prompt.version,
                                  rejections=_rules(attempts), trimmed=prompt.trimmed)
                return Outcome(summary, screened, prompt, tuple(attempts))
            log.warning("LLM answer rejected by the output guard [%s]: %s", verdict.rule, verdict.reason)
            request = prompt.retry(verdict.reason, feedback.language)
        reasons = "; ".join(f"{a.verdict.reason} [{a.verdict.rule}]" for a in attempts)
        return self._fall_back(feedback, started, f"the output guard rejected the answers: {reasons}", screened, prompt, attempts)

    def complete(self, prompt: Prompt) -> Completion:
        """The request to the endpoint, sent again after every pause an overloaded endpoint asks for."""
        while True:
            if self.backpressure is not None:
                self.backpressure.wait()
            try:
                return self.provider.complete(list(prompt.messages), max_tokens=MAX_TOKENS, temperature=TEMPERATURE)
            except ProviderError as exc:
                if self.backpressure is None or not exc.overloaded:
                    raise
                seconds = DEFAULT_HOLD_OFF if exc.retry_after is None else exc.retry_after
                log.info("LLM endpoint overloaded (%s); holding off for %.1fs", exc.problem, seconds)
                if not self.backpressure.hold_off(seconds):
                    raise

    def _fall_back(self, feedback, started, reason, screened, prompt, attempts) -> Outcome:
        log.warning("using the builtin summarizer instead: %s", reason)
        summary = replace(
            self.fallback.summarize(feedback),
            generation_method=GenerationMethod.fallback,
            fallback_reason=reason[:500],
            duration_ms=_ms_since(started),
            rejections=_rules(attempts),
        )
        return Outcome(summary, screened, prompt, tuple(attempts))


def _rules(attempts: list[Exchange]) -> tuple[str, ...]:
    return tuple(a.verdict.rule for a in attempts if a.verdict is not None and not a.verdict.accepted)


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
