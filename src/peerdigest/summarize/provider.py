"""The seam between the summarizer and the model server: one object per kind of server.

`LLMSummarizer` asks a `Provider` for a completion and gets text back or a
`ProviderError` that says, in our words, whether a later attempt may succeed
and whether the server asked every caller to hold off. No other module knows
a server's client library or error types. `configured` is the one answer to
"is a model configured"; `for_settings` picks the provider LLM_PROVIDER names.

A new kind of server is one module with a class that has `complete` and
`models`, and one entry in `PROVIDERS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from peerdigest.config import Settings


@dataclass(frozen=True)
class Completion:
    text: str
    finish_reason: str | None  # "stop", or "length" when the answer ran into the token limit


class ProviderError(Exception):
    """A request the server did not answer with a completion, said in our words (no secrets, no comment text)."""

    def __init__(self, problem: str, *, transient: bool, overloaded: bool = False, retry_after: float | None = None):
        super().__init__(problem)
        self.problem = problem
        self.transient = transient  # a later attempt may succeed: no answer in time, no connection, 429, 5xx
        self.overloaded = overloaded  # the server is busy (429, 503): every worker should hold off
        self.retry_after = retry_after  # seconds the server asked for, when it said


class Provider(Protocol):
    def complete(self, messages: list[dict[str, str]], *, max_tokens: int, temperature: float) -> Completion:
        """One chat completion; raises `ProviderError`."""
        ...

    def models(self) -> list[str]:
        """The models the server offers (for `doctor`); raises `ProviderError`."""
        ...


def configured(settings: Settings) -> bool:
    """Whether summaries are written by a model at all (else by the builtin summarizer)."""
    return bool(settings.llm_base_url)


def _openai_compatible(settings: Settings) -> Provider:
    from peerdigest.summarize.openai_compatible import OpenAICompatible

    return OpenAICompatible(settings)


def _ollama(settings: Settings) -> Provider:
    from peerdigest.summarize.ollama import OllamaNative

    return OllamaNative(settings)


# LLM_PROVIDER → the provider; imported lazily, so a worker without an LLM loads no client library.
PROVIDERS: dict[str, Callable[[Settings], Provider]] = {"openai": _openai_compatible, "ollama": _ollama}


def for_settings(settings: Settings) -> Provider:
    return PROVIDERS[settings.llm_provider](settings)
