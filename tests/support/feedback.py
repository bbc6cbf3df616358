"""Test data about feedback: a stored summary as a worker would have written it, and the sample import file."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from peerdigest.db.models import FeedbackSummary
from peerdigest.domain.feedback import collect, feedback_hash

EXAMPLE_CSV = Path(__file__).resolve().parents[2] / "examples" / "peer-feedback.csv"


def store_summary(session: Session, evaluation_id: int, student_id: int, text: str = "A summary.") -> FeedbackSummary:
    """A summary written from the student's feedback as it is now (so not stale until that feedback changes)."""
    received = collect(session, evaluation_id, student_id)
    summary = FeedbackSummary(
        evaluation_id=evaluation_id, student_id=student_id, text=text, method="builtin",
        feedback_hash=feedback_hash(received), feedback_count=len(received.comments),
    )
    session.add(summary)
    session.flush()
    return summary
