"""Where each reviewer of an evaluation stands with the form: not started, partway, submitted.

A `submission` row is the reviewer's progress (the scores themselves are
`score` rows): no row is not started, a row without `submitted_at` is partway,
one with it is submitted. Scores that came another way (an import, the scores
API) without a submission row count as partway: something is there, but the
reviewer never said they are done.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from peerdigest.db.models import Allocation, Evaluation, Score, Submission, User
from peerdigest.i18n import N_


class State(StrEnum):
    not_started = "not_started"
    partway = "partway"
    submitted = "submitted"


# How the pages name each state (translated where shown).
STATE_LABELS = {State.not_started: N_("not started"), State.partway: N_("partway"), State.submitted: N_("submitted")}


@dataclass(frozen=True)
class Reviewer:
    user_id: int
    name: str
    team: str | None
    state: State
    started_at: datetime | None
    saved_at: datetime | None
    submitted_at: datetime | None


@dataclass(frozen=True)
class Progress:
    teams: dict[str | None, list[Reviewer]]  # by team (None: no team), in name order

    @property
    def reviewers(self) -> list[Reviewer]:
        return [reviewer for members in self.teams.values() for reviewer in members]

    @property
    def counts(self) -> dict[State, int]:
        counted = Counter(reviewer.state for reviewer in self.reviewers)
        return {state: counted[state] for state in State}


def progress(session: Session, evaluation: Evaluation) -> Progress:
    """Every reviewer of the evaluation (whoever has someone to review), by team, with their state."""
    rows = session.execute(
        select(Allocation.reviewer_id, Allocation.team, User.name)
        .join(User, User.id == Allocation.reviewer_id)
        .where(Allocation.evaluation_id == evaluation.id)
        .order_by(Allocation.team, User.name, Allocation.reviewer_id)
    ).all()
    submissions = {
        row.reviewer_id: row
        for row in session.scalars(select(Submission).where(Submission.evaluation_id == evaluation.id))
    }
    scored = set(
        session.scalars(
            select(Allocation.reviewer_id)
            .join(Score, Score.allocation_id == Allocation.id)
            .where(Allocation.evaluation_id == evaluation.id, Score.value.is_not(None))
            .distinct()
        )
    )
    teams: dict[str | None, list[Reviewer]] = {}
    seen: set[int] = set()
    for reviewer_id, team, name in rows:
        if reviewer_id in seen:  # one line per reviewer, in the first team they review in
            continue
        seen.add(reviewer_id)
        submission = submissions.get(reviewer_id)
        teams.setdefault(team, []).append(
            Reviewer(
                user_id=reviewer_id,
                name=name,
                team=team,
                state=_state(submission, reviewer_id in scored),
                started_at=submission.started_at if submission else None,
                saved_at=submission.saved_at if submission else None,
                submitted_at=submission.submitted_at if submission else None,
            )
        )
    return Progress(teams)


def _state(submission: Submission | None, has_scores: bool) -> State:
    if submission is not None and submission.submitted_at is not None:
        return State.submitted
    if submission is not None or has_scores:
        return State.partway
    return State.not_started


def not_submitted(session: Session, evaluation: Evaluation) -> list[User]:
    """The reviewers who have not submitted yet (not started or partway): whom a reminder goes to."""
    waiting = [reviewer.user_id for reviewer in progress(session, evaluation).reviewers
               if reviewer.state != State.submitted]
    if not waiting:
        return []
    return list(session.scalars(select(User).where(User.id.in_(waiting), User.disabled_at.is_(None)).order_by(User.name)))
