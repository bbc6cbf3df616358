"""Evaluations and the peer scores in them: create, change, delete, submit scores.

Whenever scores change, the stored summaries that no longer match what their
student received are marked stale (`mark_stale_summaries`), whether the
change came from a reviewer, an import or anything else.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from itertools import permutations

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from peerdigest.db.models import (
    Allocation,
    Criterion,
    Evaluation,
    FeedbackSummary,
    Release,
    Score,
    User,
    utcnow,
)
from peerdigest.domain import deadlines
from peerdigest.domain.feedback import collect, evaluation_members, feedback_hash


class EvaluationError(Exception):
    """A request about an evaluation that cannot be done as asked; the message says why."""


class DeadlinePassed(EvaluationError):
    pass


class NotYourReviewee(EvaluationError):
    pass


@dataclass(frozen=True)
class CriterionSpec:
    name: str
    min_score: float = 1
    max_score: float = 5


@dataclass(frozen=True)
class ScoreEntry:
    reviewee_id: int
    criterion_id: int
    score: float | None
    comment: str | None


@dataclass(frozen=True)
class Submitted:
    created: int
    updated: int
    unchanged: int
    summaries_marked_stale: int


def evaluations_of(session: Session, user: User, *, staff: bool) -> list[Evaluation]:
    """The evaluations a user may see: all of the school for staff, those they take part in for a student."""
    query = select(Evaluation).where(Evaluation.school_id == user.school_id).order_by(Evaluation.id)
    if not staff:
        query = query.where(Evaluation.id.in_(_evaluations_with_member(user.id)))
    return list(session.scalars(query))


def takes_part(session: Session, evaluation_id: int, user_id: int) -> bool:
    return user_id in evaluation_members(session, evaluation_id)


def _evaluations_with_member(user_id: int):
    return select(Allocation.evaluation_id).where(
        or_(Allocation.reviewer_id == user_id, Allocation.reviewee_id == user_id)
    )


def create_evaluation(
    session: Session,
    *,
    school_id: int,
    title: str,
    language: str,
    deadline: datetime | None,
    criteria: list[CriterionSpec],
    teams: dict[str, list[str]],
    release: Release = Release.after_review,
) -> Evaluation:
    """An evaluation in which every member of a team (given by email) reviews every other member of that team."""
    team_of: dict[str, str] = {}
    for team, members in teams.items():
        for email in {m.strip().lower() for m in members}:
            if team_of.setdefault(email, team) != team:
                raise EvaluationError(f"{email} is in two teams ({team_of[email]!r} and {team!r}); one per student.")
    emails = set(team_of)
    users = {
        u.email: u for u in session.scalars(select(User).where(User.school_id == school_id, User.email.in_(emails)))
    }
    unknown = sorted(emails - users.keys())
    if unknown:
        raise EvaluationError(f"No user with email {', '.join(unknown)} in this school.")
    evaluation = Evaluation(
        title=title, school_id=school_id, language=language, deadline=deadline, release=release, created_at=utcnow()
    )
    evaluation.criteria = [
        Criterion(name=c.name, position=i, min_score=c.min_score, max_score=c.max_score) for i, c in enumerate(criteria)
    ]
    session.add(evaluation)
    session.flush()
    for team, members in teams.items():
        team_users = sorted({users[email.strip().lower()].id for email in members})
        for reviewer_id, reviewee_id in permutations(team_users, 2):
            session.add(
                Allocation(evaluation_id=evaluation.id, reviewer_id=reviewer_id, reviewee_id=reviewee_id, team=team)
            )
    session.flush()
    return evaluation


def update_evaluation(session: Session, evaluation: Evaluation, changes: dict) -> Evaluation:
    """Change title, language, release and/or deadline; a deadline of None removes it, other Nones change nothing."""
    language_before = evaluation.language
    for field in ("title", "language", "release"):
        if changes.get(field) is not None:
            setattr(evaluation, field, changes[field])
    if "deadline" in changes and changes["deadline"] != evaluation.deadline:
        evaluation.deadline = changes["deadline"]
        deadlines.deadline_moved(evaluation)
    session.flush()
    if evaluation.language != language_before:
        # The language is part of every summary's fingerprint: each one is now in the wrong language.
        mark_stale_summaries(session, evaluation.id)
    return evaluation


def delete_evaluation(session: Session, evaluation: Evaluation) -> None:
    """Delete the evaluation with its criteria, allocations, scores and summaries.

    Summary jobs stay: they hold no foreign key to the evaluation, so the job
    history survives, and a job still open fails with "evaluation N does not exist".
    """
    # One DELETE lets the database's ON DELETE CASCADE remove the dependants in the same statement.
    session.execute(delete(Evaluation).where(Evaluation.id == evaluation.id))
    session.expunge(evaluation)


def submit_scores(session: Session, evaluation: Evaluation, reviewer: User, entries: Iterable[ScoreEntry]) -> Submitted:
    """Store a reviewer's scores for their own reviewees, all or none, before the deadline."""
    if evaluation.deadline is not None and utcnow() >= evaluation.deadline:
        raise DeadlinePassed(f"The deadline of this evaluation passed on {evaluation.deadline:%Y-%m-%d %H:%M} UTC.")
    allocations = {
        a.reviewee_id: a
        for a in session.scalars(
            select(Allocation).where(Allocation.evaluation_id == evaluation.id, Allocation.reviewer_id == reviewer.id)
        )
    }
    criteria = {c.id: c for c in evaluation.criteria}
    existing = {
        (s.allocation_id, s.criterion_id): s
        for s in session.scalars(
            select(Score).where(Score.allocation_id.in_([a.id for a in allocations.values()]))
        )
    }
    created = updated = unchanged = 0
    changed_students: set[int] = set()
    for entry in entries:
        allocation = allocations.get(entry.reviewee_id)
        if allocation is None:
            raise NotYourReviewee(f"You are not asked to review student {entry.reviewee_id} in this evaluation.")
        criterion = criteria.get(entry.criterion_id)
        if criterion is None:
            raise EvaluationError(f"Criterion {entry.criterion_id} is not part of this evaluation.")
        if entry.score is not None and not criterion.min_score <= entry.score <= criterion.max_score:
            raise EvaluationError(
                f"Score {entry.score:g} for {criterion.name!r} is outside its scale "
                f"{criterion.min_score:g}-{criterion.max_score:g}."
            )
        comment = (entry.comment or "").strip() or None
        change = put_score(session, existing, allocation, criterion, entry.score, comment)
        if change == "unchanged":
            unchanged += 1
            continue
        created += change == "created"
        updated += change == "updated"
        changed_students.add(entry.reviewee_id)
    session.flush()
    stale = mark_stale_summaries(session, evaluation.id, changed_students)
    return Submitted(created, updated, unchanged, stale)


def put_score(
    session: Session,
    existing: dict[tuple[int, int], Score],
    allocation: Allocation,
    criterion: Criterion,
    value: float | None,
    comment: str | None,
) -> str:
    """Write one score (a reviewer's value and comment on one criterion of one reviewee) over the one in `existing`.

    Returns "created", "updated" or "unchanged". `existing` holds the scores already
    stored, by (allocation id, criterion id); a new score joins it, so a second entry
    for the same score in one batch updates it. A new allocation (no id before the
    next flush) has no scores yet.
    """
    score = existing.get((allocation.id, criterion.id)) if allocation.id is not None else None
    if score is None:
        score = Score(allocation=allocation, criterion=criterion, value=value, comment=comment)
        session.add(score)
        if allocation.id is not None:
            existing[(allocation.id, criterion.id)] = score
        return "created"
    if (score.value, score.comment) != (value, comment):
        score.value, score.comment = value, comment
        return "updated"
    return "unchanged"


def mark_stale_summaries(session: Session, evaluation_id: int, student_ids: Iterable[int] | None = None) -> int:
    """Mark stale the stored summaries whose feedback changed since they were written.

    Compares the fingerprint of what each student receives now with the one
    the summary was written from; `student_ids=None` checks every summary of
    the evaluation. Returns how many summaries became stale.
    """
    query = select(FeedbackSummary).where(
        FeedbackSummary.evaluation_id == evaluation_id, FeedbackSummary.stale.is_(False)
    )
    if student_ids is not None:
        query = query.where(FeedbackSummary.student_id.in_(list(student_ids)))
    marked = 0
    for summary in session.scalars(query).all():
        if feedback_hash(collect(session, evaluation_id, summary.student_id)) != summary.feedback_hash:
            summary.stale = True
            marked += 1
    session.flush()
    return marked
