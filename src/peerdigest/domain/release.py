"""When a student may read their summary, and whether they may ask for one themselves.

The one place the student's pages and answers ask. Until review before release
exists, every written summary counts as released and students may ask for
their own summary.
"""

from __future__ import annotations

from peerdigest.db.models import Evaluation, FeedbackSummary


def released(summary: FeedbackSummary) -> bool:
    """Whether the student the summary is about may read it."""
    return True


def students_may_generate(evaluation: Evaluation) -> bool:
    """Whether a student may queue their own summary (release is automatic: nobody reviews it first)."""
    return True
