"""A large class added to an evaluation in a few bulk inserts, for tests of what must not grow with the class."""

from __future__ import annotations

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from peerdigest.db.models import Allocation, Evaluation, FeedbackSummary, Score, User


def add_teams(session: Session, evaluation_id: int, teams: int, size: int = 2, summaries: bool = False) -> list[int]:
    """`teams` teams of `size` students named "Big team {n}", each rating every teammate on the evaluation's
    first two criteria (values that differ, so factors and labels do), each with a stored summary if `summaries`.
    Returns the new students' ids."""
    evaluation = session.get(Evaluation, evaluation_id)
    criteria = [c.id for c in evaluation.criteria[:2]]
    first_user = (session.scalar(select(func.max(User.id))) or 0) + 1
    students = [first_user + n for n in range(teams * size)]
    session.execute(insert(User), [
        {"id": s, "email": f"big{s}@example.com", "name": f"Student {s}", "role": "student",
         "school_id": evaluation.school_id} for s in students
    ])
    first_allocation = (session.scalar(select(func.max(Allocation.id))) or 0) + 1
    pairs = [
        (students[t * size + a], students[t * size + b], f"Big team {t}")
        for t in range(teams) for a in range(size) for b in range(size) if a != b
    ]
    session.execute(insert(Allocation), [
        {"id": first_allocation + n, "evaluation_id": evaluation_id, "reviewer_id": r, "reviewee_id": e, "team": team,
         "is_self": False} for n, (r, e, team) in enumerate(pairs)
    ])
    session.execute(insert(Score), [
        {"allocation_id": first_allocation + n, "criterion_id": c, "value": 1 + (r * 7 + e * 3) % 5}
        for n, (r, e, _) in enumerate(pairs) for c in criteria
    ])
    if summaries:
        session.execute(insert(FeedbackSummary), [
            {"evaluation_id": evaluation_id, "student_id": s, "summary_text": f"Student {s} werkt goed samen.",
             "generation_method": "builtin", "feedback_hash": "0" * 64, "feedback_count": size - 1} for s in students
        ])
    return students
