"""`peerdigest preview`: for one student, what would be sent to the LLM and what comes back, for tuning.

Nothing is stored and no job is queued: the feedback, read and anonymized by
the caller, is screened exactly as a worker does, then summarized once, keeping
every answer of the model and the guard's verdict on it. The CLI shows it.
"""

from __future__ import annotations

from dataclasses import dataclass

from peerdigest.config import Settings
from peerdigest.domain.received import ReceivedFeedback
from peerdigest.summarize import Summary
from peerdigest.summarize.builtin import BuiltinSummarizer
from peerdigest.summarize.injection import Screened, screen
from peerdigest.summarize.llm import Exchange, LLMSummarizer
from peerdigest.summarize.prompt import Prompt, build
from peerdigest.summarize.provider import configured


@dataclass(frozen=True)
class Preview:
    received: ReceivedFeedback  # anonymized
    screened: Screened
    prompt: Prompt
    attempts: tuple[Exchange, ...]  # empty when no LLM is configured (or there was nothing to ask)
    summary: Summary
    llm_base_url: str | None


def preview(settings: Settings, received: ReceivedFeedback) -> Preview:
    """Summarize one student's anonymized feedback as a worker would, keeping every step."""
    if configured(settings):
        outcome = LLMSummarizer.from_settings(settings).run(received)
        return Preview(received, outcome.screened, outcome.prompt, outcome.attempts, outcome.summary, settings.llm_base_url)
    screened = screen(received)
    return Preview(received, screened, build(screened.feedback), (), BuiltinSummarizer().summarize(received), None)
