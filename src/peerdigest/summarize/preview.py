"""`peerdigest preview`: for one student, what would be sent to the LLM and what comes back, for tuning.

Nothing is stored and no job is queued: the feedback is read, anonymized and
screened exactly as a worker does, then summarized once, with every answer of
the model and the guard's verdict on it shown.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Console
from rich.panel import Panel
from rich.text import Text

from peerdigest.config import Settings
from peerdigest.db.session import session_scope
from peerdigest.domain.feedback import ReceivedFeedback, anonymize, collect
from peerdigest.summarize import Summary
from peerdigest.summarize.builtin import BuiltinSummarizer
from peerdigest.summarize.injection import Screened, screen
from peerdigest.summarize.llm import Attempt, LLMSummarizer
from peerdigest.summarize.prompt import Prompt, build


@dataclass(frozen=True)
class Preview:
    received: ReceivedFeedback  # anonymized
    screened: Screened
    prompt: Prompt
    attempts: tuple[Attempt, ...]  # empty when no LLM is configured (or there was nothing to ask)
    summary: Summary
    llm_base_url: str | None


def preview(settings: Settings, evaluation_id: int, student_id: int) -> Preview:
    """Summarize one student's feedback as a worker would, keeping every step; raises FeedbackError for bad ids."""
    with session_scope(settings.database_url) as session:
        received = anonymize(collect(session, evaluation_id, student_id))
    if settings.llm_base_url:
        outcome = LLMSummarizer.from_settings(settings).run(received)
        return Preview(received, outcome.screened, outcome.prompt, outcome.attempts, outcome.summary, settings.llm_base_url)
    screened = screen(received)
    return Preview(received, screened, build(screened.feedback), (), BuiltinSummarizer().summarize(received), None)


def show(console: Console, shown: Preview, *, show_prompt: bool) -> None:
    received = shown.received
    console.print(
        f"Evaluation {received.evaluation_id}, student {received.student_id} ({received.language}): "
        f"{received.reviewer_count} reviewer(s), {len(received.comments)} comment(s)."
    )
    if shown.screened.removed:
        console.print(Panel(Text("\n".join(shown.screened.removed)), expand=False,
                            title="Left out of the comments: orders to the model or hidden text"))
    if show_prompt:
        console.print(Panel(Text(shown.prompt.instructions), title=f"Instructions (prompt version {shown.prompt.version})"))
    sent = shown.prompt.messages[1]["content"]
    if shown.llm_base_url:
        console.print(Panel(Text(sent), title=f"Sent to {shown.llm_base_url} as data"))
    else:
        console.print("LLM_BASE_URL is not set: nothing is sent anywhere; the builtin summarizer writes the summary. "
                      "This is the data an LLM would get:")
        console.print(Panel(Text(sent), title="Data"))
    for number, attempt in enumerate(shown.attempts, start=1):
        if attempt.error:
            console.print(f"[red]Request {number} failed:[/red] {attempt.error}")
            continue
        verdict = "accepted" if attempt.verdict.accepted else f"rejected: {attempt.verdict.reason}"
        style = "green" if attempt.verdict.accepted else "red"
        console.print(Panel(Text(attempt.answer or ""), title=f"Answer {number}", subtitle=verdict, border_style=style))
    summary = shown.summary
    details = [f"method {summary.method}", f"{summary.duration_ms} ms"]
    if summary.model:
        details.insert(1, f"model {summary.model}, prompt version {summary.prompt_version}")
    console.print(Panel(Text(summary.text), title="Summary", subtitle=", ".join(details)))
    if summary.fallback_reason:
        console.print(f"Fell back to the builtin summarizer: {summary.fallback_reason}")
