"""What one student received from their peers, as plain values: the summarizers' input.

No database here: `domain.feedback.collect` reads these from the database of
record, and `summarize` turns them into text without knowing where they came from.
"""

from __future__ import annotations

from dataclasses import dataclass

# How far (a share of the scale) a self-rating must lie from the peers' rating before a summary may say the
# student sees their own work differently; the same default as INSIGHTS_CONFIDENCE_GAP (docs/INSIGHTS.md).
SELF_VIEW_GAP = 0.2


@dataclass(frozen=True)
class CriterionScore:
    criterion_id: int
    name: str
    average: float | None  # None when no peer scored this criterion
    count: int
    min_score: float
    max_score: float


@dataclass(frozen=True)
class Comment:
    criterion_id: int
    criterion: str
    text: str
    score: float | None
    reviewer: int  # an index per reviewer (1, 2, ...), never their id or name


@dataclass(frozen=True)
class ReceivedFeedback:
    evaluation_id: int
    student_id: int
    student_name: str
    language: str
    criteria: tuple[CriterionScore, ...]
    comments: tuple[Comment, ...]
    roster: tuple[str, ...]  # names of everyone in the evaluation, for anonymization and the output guard
    reviewer_count: int
    # The student's self-rating minus the peers' average, as a share of the scale (0.25: a quarter of the
    # scale higher), over the criteria both scored; None without a self-assessment. Summaries may say,
    # tactfully, that the student sees their work differently (docs/INSIGHTS.md).
    self_gap: float | None = None

    @property
    def scored_criteria(self) -> tuple[CriterionScore, ...]:
        return tuple(c for c in self.criteria if c.average is not None)

    @property
    def self_view(self) -> str | None:
        """"higher" or "lower" when the student rates their own work clearly differently from their
        teammates (at least SELF_VIEW_GAP of the scale); None otherwise or without a self-rating."""
        if self.self_gap is None or abs(self.self_gap) < SELF_VIEW_GAP:
            return None
        return "higher" if self.self_gap > 0 else "lower"
