"""One interface, several ways to write a summary.

`for_settings` picks the summarizer: the LLM one when `LLM_BASE_URL` is set,
the builtin one otherwise. Summarizers know nothing about RQ or HTTP routes;
they turn anonymized `ReceivedFeedback` into a `Summary`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from peerdigest.config import Settings
from peerdigest.domain.received import ReceivedFeedback

if TYPE_CHECKING:
    from peerdigest.summarize.llm import Backpressure


class GenerationMethod(StrEnum):
    """How a summary was written; stored with it and shown as `generation_method`."""

    ai = "ai"  # by the LLM
    builtin = "builtin"  # by the builtin summarizer, as configured
    fallback = "fallback"  # by the builtin summarizer, because the LLM failed
    empty = "empty"  # nothing to summarize: no comments


@dataclass(frozen=True)
class Summary:
    summary_text: str
    generation_method: str  # a GenerationMethod
    duration_ms: int = 0
    model: str | None = None
    prompt_version: str | None = None
    fallback_reason: str | None = None
    rejections: tuple[str, ...] = ()  # the output guard's rule for each rejected LLM answer, in order
    trimmed: str | None = None  # how the prompt was shortened to fit LLM_CONTEXT_TOKENS, if it was


class TransientSummaryError(Exception):
    """The LLM endpoint failed in a way a later attempt may not (timeout, connection, 5xx, 429).

    Raised only when `final_attempt` is False, so the queue can retry with
    back-off; on the final attempt the summarizer falls back to builtin instead.
    """


class Summarizer(Protocol):
    def summarize(self, feedback: ReceivedFeedback, *, final_attempt: bool = True) -> Summary:
        """Write a summary of anonymized feedback. Never raises for bad LLM output."""
        ...


def writer(settings: Settings) -> tuple[str, str | None, str | None]:
    """How a summary would be written now: (generation method, model, prompt version), as stored with each summary.

    Part of the cache key: a summary written another way (builtin before an LLM was configured, another
    model, an older prompt) is written again instead of reused.
    """
    from peerdigest.summarize.provider import configured

    if not configured(settings):
        return (GenerationMethod.builtin, None, None)
    from peerdigest.summarize.prompt import PROMPT_VERSION

    return (GenerationMethod.ai, settings.llm_model, PROMPT_VERSION)


def for_settings(settings: Settings, backpressure: Backpressure | None = None) -> Summarizer:
    """The summarizer `settings` ask for; an LLM one tells `backpressure` when its endpoint is overloaded."""
    from peerdigest.summarize.builtin import BuiltinSummarizer

    from peerdigest.summarize.provider import configured

    if not configured(settings):
        return BuiltinSummarizer()
    from peerdigest.summarize.llm import LLMSummarizer

    return LLMSummarizer.from_settings(settings, backpressure)
