"""Evaluations and the peer scores in them: create, change, archive, delete; a student's team; write one
score (`put_score`).

A reviewer's scores are saved through `submissions.save_scores`, the importer's
rows through `put_score` directly: both write a score with `put_score`.

Whenever scores change, the stored summaries that no longer match what their
student received are marked stale (`mark_stale_summaries`), whether the
change came from a reviewer, an import or anything else.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
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
from peerdigest.i18n import N_, _


class EvaluationError(Exception):
    """A request about an evaluation that cannot be done as asked; the message says why."""


@dataclass(frozen=True)
class CriterionSpec:
    name: str
    min_score: float = 1
    max_score: float = 5


# Criteria a teacher can start from, per language: name → the criteria, in the order the form asks them.
CRITERIA_SETS: dict[str, dict[str, tuple[str, ...]]] = {
    "nl": {
        N_("Teamwork"): ("Samenwerking", "Inzet", "Communicatie", "Kwaliteit van het werk"),
        N_("Project roles"): ("Planning", "Initiatief", "Betrouwbaarheid", "Bijdrage aan het resultaat"),
        N_("Short"): ("Bijdrage", "Samenwerking"),
    },
    "en": {
        N_("Teamwork"): ("Collaboration", "Effort", "Communication", "Quality of work"),
        N_("Project roles"): ("Planning", "Initiative", "Reliability", "Contribution to the result"),
        N_("Short"): ("Contribution", "Collaboration"),
    },
}


# The scales a teacher picks from: every criterion is scored 1..scale.
SCALES = (5, 10)
MAX_REMIND_HOURS = 24 * 30


@dataclass(frozen=True)
class OptionProblem:
    """An option of an evaluation that cannot be as asked: the option's name as the API calls it, and why."""

    option: str  # opens_at, deadline, remind_hours_before, scale
    message: str


def check_options(
    *,
    now: datetime,
    opens_at: datetime | None = None,
    deadline: datetime | None = None,
    remind_hours_before: int | None = None,
    scale: int | None = None,
) -> list[OptionProblem]:
    """What is wrong with how a teacher sets an evaluation's collecting, on its pages or through the API (the same
    rules for both): a close time ahead and after the opening, a reminder 1 to 720 hours before the close, a scale
    of 1–5 or 1–10. An empty list: nothing."""
    problems = []
    if scale is not None and scale not in SCALES:
        problems.append(OptionProblem("scale", _("Choose 1–5 or 1–10.")))
    if deadline is not None and deadline <= now:
        problems.append(OptionProblem("deadline", _("That moment has passed: choose a close time in the future.")))
    elif opens_at is not None and deadline is not None and opens_at >= deadline:
        problems.append(OptionProblem(
            "deadline", _("The evaluation closes before it opens: choose a later close time.")))
    if remind_hours_before is not None and not 1 <= remind_hours_before <= MAX_REMIND_HOURS:
        problems.append(OptionProblem(
            "remind_hours_before", _("Write a whole number of hours from 1 to 720, or leave it empty.")))
    return problems


def evaluations_of(session: Session, user: User, *, staff: bool) -> list[Evaluation]:
    """The evaluations a user may see: all of the school for staff, those they take part in for a student.

    An archived evaluation is in nobody's list (its page stays, for a link someone kept).
    """
    query = (
        select(Evaluation)
        .where(Evaluation.school_id == user.school_id, Evaluation.archived_at.is_(None))
        .order_by(Evaluation.id)
    )
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
    opens_at: datetime | None = None,
    self_rating: bool = False,
    self_rating_counts: bool = False,
    comment_required: bool = False,
    remind_hours_before: int | None = None,
) -> Evaluation:
    """An evaluation in which every member of a team (given by email) reviews every other member of that team,
    and with `self_rating` themself too."""
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
        title=title, school_id=school_id, language=language, deadline=deadline, release=release, created_at=utcnow(),
        opens_at=opens_at, self_rating=self_rating, self_rating_counts=self_rating and self_rating_counts,
        comment_required=comment_required, remind_hours_before=remind_hours_before,
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
        if self_rating:
            for user_id in team_users:
                session.add(_self_allocation(evaluation, user_id, team))
    session.flush()
    return evaluation


def _self_allocation(evaluation: Evaluation, user_id: int, team: str) -> Allocation:
    return Allocation(evaluation_id=evaluation.id, reviewer_id=user_id, reviewee_id=user_id, team=team, is_self=True)


def archive_evaluation(evaluation: Evaluation) -> None:
    """Take the evaluation out of every list; its rows stay (an archived one is never deleted by a click)."""
    if evaluation.archived_at is None:
        evaluation.archived_at = utcnow()


def teams_of(session: Session, evaluation_id: int) -> dict[int, str | None]:
    """Each student's team in the evaluation, by user id (None: in no team, as an import may leave them)."""
    teams: dict[int, str | None] = {}
    for reviewer_id, reviewee_id, team in session.execute(
        select(Allocation.reviewer_id, Allocation.reviewee_id, Allocation.team)
        .where(Allocation.evaluation_id == evaluation_id)
        .order_by(Allocation.id)
    ):
        for user_id in (reviewee_id, reviewer_id):
            if teams.get(user_id) is None:
                teams[user_id] = team
    return teams


@dataclass(frozen=True)
class TeamChange:
    allocations_removed: int
    allocations_added: int
    scores_removed: int
    summaries_marked_stale: int


def reallocate(session: Session, evaluation: Evaluation, changes: Mapping[int, str | None]) -> TeamChange:
    """Put each student of `changes` in their new team (None: out of the evaluation), touching only what that changes.

    A moved student stops rating, and being rated by, the members of their old team
    (those allocations go, with their scores) and rates every member of the new one,
    both ways; a self-rating follows them. Every other allocation keeps its scores,
    so what an import put between students who stay is left as it was. Summaries of
    whoever now receives different feedback are marked stale.
    """
    current = teams_of(session, evaluation.id)
    wanted = {**current, **changes}
    moved = {user_id for user_id, team in changes.items() if current.get(user_id) != team}
    if not moved:
        return TeamChange(0, 0, 0, 0)
    touched = set(moved)
    kept: set[tuple[int, int]] = set()
    removed = scores_removed = added = 0
    for allocation in session.scalars(select(Allocation).where(
        Allocation.evaluation_id == evaluation.id,
        or_(Allocation.reviewer_id.in_(moved), Allocation.reviewee_id.in_(moved)),
    )):
        ends = (allocation.reviewer_id, allocation.reviewee_id)
        team = wanted.get(allocation.reviewer_id)
        if team is not None and team == wanted.get(allocation.reviewee_id):
            allocation.team = team
            kept.add(ends)
            continue
        touched.update(ends)
        scores_removed += len(allocation.scores)
        session.delete(allocation)
        removed += 1
    for student_id in sorted(moved):
        team = wanted.get(student_id)
        if team is None:
            continue
        mates = sorted(u for u, t in wanted.items() if t == team and u != student_id)
        for pair in [*((student_id, mate) for mate in mates), *((mate, student_id) for mate in mates)]:
            if pair not in kept:
                session.add(Allocation(evaluation_id=evaluation.id, reviewer_id=pair[0], reviewee_id=pair[1], team=team))
                kept.add(pair)
                added += 1
        touched.update(mates)
        if evaluation.self_rating and (student_id, student_id) not in kept:
            session.add(_self_allocation(evaluation, student_id, team))
            kept.add((student_id, student_id))
            added += 1
    session.flush()
    stale = mark_stale_summaries(session, evaluation.id, touched)
    return TeamChange(removed, added, scores_removed, stale)


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


def change_times(
    session: Session,
    evaluation: Evaluation,
    *,
    opens_at: datetime | None,
    deadline: datetime | None,
    remind_hours_before: int | None,
) -> None:
    """Set when the evaluation opens and closes and how long before the close its reminder goes.

    A deadline moved ahead brings back the reminder and the close (`deadlines.deadline_moved`): an
    evaluation that had closed opens again, and its summaries are queued again at the new close.
    Other reminder hours alone send no second reminder.
    """
    evaluation.opens_at = opens_at
    evaluation.remind_hours_before = remind_hours_before
    update_evaluation(session, evaluation, {"deadline": deadline})


def close_now(session: Session, evaluation: Evaluation, now: datetime | None = None) -> None:
    """Close the evaluation at once: reviewers can change nothing more, and the scheduler queues its summaries."""
    update_evaluation(session, evaluation, {"deadline": now or utcnow()})


def delete_evaluation(session: Session, evaluation: Evaluation) -> None:
    """Delete the evaluation with its criteria, allocations, scores and summaries.

    Summary jobs stay: they hold no foreign key to the evaluation, so the job
    history survives, and a job still open fails with "evaluation N does not exist".
    """
    # One DELETE lets the database's ON DELETE CASCADE remove the dependants in the same statement.
    session.execute(delete(Evaluation).where(Evaluation.id == evaluation.id))
    session.expunge(evaluation)


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
