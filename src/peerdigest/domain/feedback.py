"""What a student received from their peers: collect it, fingerprint it, anonymize it.

The values themselves are `domain.received`; this module reads them from the
database of record and knows nothing about RQ, HTTP or LLMs.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from peerdigest.db.models import Allocation, Evaluation, Score, User
from peerdigest.domain.insights import share_of_scale
from peerdigest.domain.names import PEER_WORD, replace_names
from peerdigest.domain.received import Comment, CriterionScore, ReceivedFeedback


class FeedbackError(Exception):
    """A request about feedback that can never succeed (no retry helps)."""


class EvaluationNotFound(FeedbackError):
    def __init__(self, evaluation_id: int):
        super().__init__(f"evaluation {evaluation_id} does not exist")


class StudentNotInEvaluation(FeedbackError):
    def __init__(self, evaluation_id: int, student_id: int):
        super().__init__(f"student {student_id} does not take part in evaluation {evaluation_id}")


def evaluation_members(session: Session, evaluation_id: int) -> set[int]:
    """Ids of everyone who takes part in the evaluation: who reviews, and who is reviewed."""
    pairs = session.execute(
        select(Allocation.reviewer_id, Allocation.reviewee_id).where(Allocation.evaluation_id == evaluation_id)
    )
    return {user_id for pair in pairs for user_id in pair}


def evaluation_students(session: Session, evaluation_id: int) -> list[int]:
    """Ids of everyone who receives feedback in the evaluation, in a stable order."""
    return sorted(
        set(session.scalars(select(Allocation.reviewee_id).where(Allocation.evaluation_id == evaluation_id)))
    )


def collect(session: Session, evaluation_id: int, student_id: int) -> ReceivedFeedback:
    """The scores and comments `student_id` received from peers, self-assessment excluded."""
    evaluation = session.get(Evaluation, evaluation_id)
    if evaluation is None:
        raise EvaluationNotFound(evaluation_id)
    student = session.get(User, student_id)
    member_ids = evaluation_members(session, evaluation_id)
    if student is None or student_id not in member_ids:
        raise StudentNotInEvaluation(evaluation_id, student_id)

    rows = session.execute(
        select(Score, Allocation.reviewer_id)
        .join(Allocation, Score.allocation_id == Allocation.id)
        .where(
            Allocation.evaluation_id == evaluation_id,
            Allocation.reviewee_id == student_id,
            Allocation.is_self.is_(False),
        )
        .order_by(Allocation.reviewer_id, Score.criterion_id)
    ).all()
    reviewer_index: dict[int, int] = {}
    values: dict[int, list[float]] = defaultdict(list)
    comments: list[Comment] = []
    names = {c.id: c.name for c in evaluation.criteria}
    for score, reviewer_id in rows:
        index = reviewer_index.setdefault(reviewer_id, len(reviewer_index) + 1)
        if score.value is not None:
            values[score.criterion_id].append(score.value)
        text = (score.comment or "").strip()
        if text:
            comments.append(Comment(score.criterion_id, names.get(score.criterion_id, ""), text, score.value, index))

    criteria = tuple(
        CriterionScore(
            criterion_id=c.id,
            name=c.name,
            average=round(sum(values[c.id]) / len(values[c.id]), 2) if values[c.id] else None,
            count=len(values[c.id]),
            min_score=c.min_score,
            max_score=c.max_score,
        )
        for c in evaluation.criteria
    )
    roster = tuple(session.scalars(select(User.name).where(User.id.in_(member_ids))))
    own = dict(
        session.execute(
            select(Score.criterion_id, Score.value)
            .join(Allocation, Score.allocation_id == Allocation.id)
            .where(
                Allocation.evaluation_id == evaluation_id,
                Allocation.reviewee_id == student_id,
                Allocation.is_self.is_(True),
                Score.value.is_not(None),
            )
        ).all()
    )
    return ReceivedFeedback(
        evaluation_id=evaluation_id,
        student_id=student_id,
        student_name=student.name,
        language=evaluation.language,
        criteria=criteria,
        comments=tuple(comments),
        roster=roster,
        reviewer_count=len(reviewer_index),
        self_gap=_self_gap(own, criteria),
    )


def _self_gap(own: dict[int, float], criteria: tuple[CriterionScore, ...]) -> float | None:
    both = [c for c in criteria if c.criterion_id in own and c.average is not None]
    if not both:
        return None
    gaps = [
        share_of_scale(own[c.criterion_id], c.min_score, c.max_score) - share_of_scale(c.average, c.min_score, c.max_score)
        for c in both
    ]
    return round(sum(gaps) / len(gaps), 2)


def feedback_hash(feedback: ReceivedFeedback) -> str:
    """A fingerprint of what was received: equal hashes mean a summary can be reused."""
    canonical = {
        "language": feedback.language,
        "criteria": [[c.criterion_id, c.name, c.average, c.count] for c in feedback.criteria],
        "comments": [[c.criterion_id, c.reviewer, c.score, c.text] for c in feedback.comments],
        # A summary may mention how the self-rating compares with the peers', so a change in it matters.
        "self_gap": feedback.self_gap,
    }
    return hashlib.sha256(json.dumps(canonical, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def anonymize(feedback: ReceivedFeedback) -> ReceivedFeedback:
    """The same feedback with every name of the evaluation's members, in any form (see `names`), replaced.

    The one anonymizer: the worker, the prompt, `peerdigest preview` and the `/quotes` endpoint all go through it.
    """
    word = PEER_WORD.get(feedback.language, PEER_WORD["en"])
    comments = tuple(replace(c, text=replace_names(c.text, feedback.roster, word)) for c in feedback.comments)
    return replace(feedback, comments=comments)
