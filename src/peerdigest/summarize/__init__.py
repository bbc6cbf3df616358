"""One interface, several ways to write a summary.

`for_settings` picks the summarizer: the LLM one when `LLM_BASE_URL` is set,
the builtin one otherwise. Summarizers know nothing about RQ or HTTP routes;
they turn anonymized `ReceivedFeedback` into a `Summary`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from peerdigest.config import Settings
from peerdigest.domain.feedback import ReceivedFeedback


@dataclass(frozen=True)
class Summary:
    text: str
    method: str  # ai | builtin | fallback | empty (see db.models.Method)
    duration_ms: int = 0
    model: str | None = None
    prompt_version: str | None = None
    fallback_reason: str | None = None
    rejections: tuple[str, ...] = ()  # the output guard's rule for each rejected LLM answer, in order


class TransientSummaryError(Exception):
    """The LLM endpoint failed in a way a later attempt may not (timeout, connection, 5xx, 429).

    Raised only when `final_attempt` is False, so the queue can retry with
    back-off; on the final attempt the summarizer falls back to builtin instead.
    """


class Summarizer(Protocol):
    def summarize(self, feedback: ReceivedFeedback, *, final_attempt: bool = True) -> Summary:
        """Write a summary of anonymized feedback. Never raises for bad LLM output."""
        ...


def for_settings(settings: Settings) -> Summarizer:
    from peerdigest.summarize.builtin import BuiltinSummarizer

    if not settings.llm_base_url:
        return BuiltinSummarizer()
    from peerdigest.summarize.llm import LLMSummarizer

    return LLMSummarizer.from_settings(settings)
