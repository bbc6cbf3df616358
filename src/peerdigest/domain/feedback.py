"""What a student received from their peers: collect it, fingerprint it, anonymize it.

The values themselves are `domain.received`; this module reads them from the
database of record and knows nothing about RQ, HTTP or LLMs.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import replace

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from peerdigest.db.models import Allocation, Evaluation, Score, User
from peerdigest.domain.insights import share_of_scale
from peerdigest.domain.names import replace_names_for
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


def receives_feedback(session: Session, evaluation_id: int, student_id: int) -> bool:
    """Whether `student_id` is among `evaluation_students`, asked of that one student (an access check per request)."""
    return session.scalar(
        select(
            exists().where(Allocation.evaluation_id == evaluation_id, Allocation.reviewee_id == student_id)
        )
    )


def collect(session: Session, evaluation_id: int, student_id: int) -> ReceivedFeedback:
    """The scores and comments `student_id` received from peers, self-assessment excluded."""
    evaluation = session.get(Evaluation, evaluation_id)
    if evaluation is None:
        raise EvaluationNotFound(evaluation_id)
    # Every member's name (the anonymizer needs the roster), read in one query with the membership itself.
    members = select(Allocation.reviewer_id).where(Allocation.evaluation_id == evaluation_id).union(
        select(Allocation.reviewee_id).where(Allocation.evaluation_id == evaluation_id)
    )
    roster = dict(session.execute(select(User.id, User.name).where(User.id.in_(members))).all())
    if student_id not in roster:
        raise StudentNotInEvaluation(evaluation_id, student_id)

    # Peers' scores and the student's own (for `self_gap`) in one query; a job runs this once.
    rows = session.execute(
        select(Score, Allocation.reviewer_id, Allocation.is_self)
        .join(Allocation, Score.allocation_id == Allocation.id)
        .where(Allocation.evaluation_id == evaluation_id, Allocation.reviewee_id == student_id)
        .order_by(Allocation.reviewer_id, Score.criterion_id)
    ).all()
    reviewer_index: dict[int, int] = {}
    values: dict[int, list[float]] = defaultdict(list)
    own: dict[int, float] = {}
    comments: list[Comment] = []
    names = {c.id: c.name for c in evaluation.criteria}
    for score, reviewer_id, is_self in rows:
        if is_self:
            if score.value is not None:
                own[score.criterion_id] = score.value
            continue
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
    return ReceivedFeedback(
        evaluation_id=evaluation_id,
        student_id=student_id,
        student_name=roster[student_id],
        language=evaluation.language,
        criteria=criteria,
        comments=tuple(comments),
        roster=tuple(roster.values()),
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
    """The same feedback with every name of the evaluation's members, in any form (see `names`), replaced:
    teammates' by the peer word, the student's own by "you" or "[name]" (`names.replace_names_for`).

    The one anonymizer: the worker, the prompt, `peerdigest preview` and the `/quotes` endpoint all go through it.
    """
    comments = tuple(
        replace(c, text=replace_names_for(c.text, feedback.roster, feedback.student_name, feedback.language))
        for c in feedback.comments
    )
    return replace(feedback, comments=comments)
