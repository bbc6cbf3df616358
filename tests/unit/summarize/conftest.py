"""Feedback as `feedback.collect` + `anonymize` hand it to a summarizer, written out by hand.

The corpus tests (tests/integration/summarize) go through the importer and the
database; these unit tests build the one situation they are about directly.
"""

from __future__ import annotations

import pytest

from peerdigest.domain.feedback import anonymize
from peerdigest.domain.received import Comment, CriterionScore, ReceivedFeedback


def make_feedback(
    language: str = "nl",
    scores: dict[str, list[float | None]] | None = None,
    comments: list[tuple[int, str, float | None, str]] = (),
    roster: tuple[str, ...] = ("Jan de Vries", "Sanne Bakker", "Lisa Jansen", "Daan Visser"),
    self_gap: float | None = None,
) -> ReceivedFeedback:
    """`scores`: criterion -> the score each reviewer gave (None: not scored);
    `comments`: (reviewer number, criterion, score, text); `self_gap`: self-rating minus peers (share of the scale). Names in comments are anonymized as a worker does."""
    scores = scores or {}
    ids = {name: index for index, name in enumerate(scores, start=1)}
    criteria = tuple(
        CriterionScore(
            criterion_id=ids[name],
            name=name,
            average=round(sum(v for v in values if v is not None) / len([v for v in values if v is not None]), 2)
            if any(v is not None for v in values)
            else None,
            count=len([v for v in values if v is not None]),
            min_score=1,
            max_score=5,
        )
        for name, values in scores.items()
    )
    reviewers = {reviewer for reviewer, *_ in comments} | {i + 1 for values in scores.values() for i in range(len(values))}
    received = ReceivedFeedback(
        evaluation_id=1,
        student_id=1,
        student_name=roster[0],
        language=language,
        criteria=criteria,
        comments=tuple(
            Comment(criterion_id=ids.get(criterion, 0), criterion=criterion, text=text, score=score, reviewer=reviewer)
            for reviewer, criterion, score, text in comments
        ),
        roster=roster,
        reviewer_count=len(reviewers),
        self_gap=self_gap,
    )
    return anonymize(received)


@pytest.fixture
def feedback():
    return make_feedback
