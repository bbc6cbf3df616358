"""Where each reviewer of an evaluation stands with the form: not started, partway, submitted.

Stand-in for the collect-form branch's module of the same name (which also
saves and submits the form): `progress` here has the same signature and
answer, so the progress page and the reminders read whichever is merged.

A `submission` row is the reviewer's progress (the scores themselves are
`score` rows): no row is not started, a row without `submitted_at` is partway,
one with it is submitted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from peerdigest.db.models import Allocation, Evaluation, Score, Submission, User


class State(StrEnum):
    not_started = "not_started"
    partway = "partway"
    submitted = "submitted"


@dataclass(frozen=True)
class ReviewerProgress:
    team: str | None
    reviewer: User
    state: State
    saved_at: datetime | None
    submitted_at: datetime | None


def progress(session: Session, evaluation: Evaluation) -> list[ReviewerProgress]:
    """Where every reviewer of the evaluation stands, by team and name.

    A reviewer without a submission row who has scores (given through an import)
    counts as partway: their form is not empty, but they never handed it in here.
    """
    reviewers = session.execute(
        select(User, func.min(Allocation.team))
        .join(Allocation, Allocation.reviewer_id == User.id)
        .where(Allocation.evaluation_id == evaluation.id)
        .group_by(User.id)
    ).all()
    submissions = {
        s.reviewer_id: s for s in session.scalars(select(Submission).where(Submission.evaluation_id == evaluation.id))
    }
    with_scores = set(
        session.scalars(
            select(Allocation.reviewer_id)
            .join(Score, Score.allocation_id == Allocation.id)
            .where(Allocation.evaluation_id == evaluation.id)
            .distinct()
        )
    )
    rows = []
    for reviewer, team in reviewers:
        submission = submissions.get(reviewer.id)
        rows.append(
            ReviewerProgress(
                team=team,
                reviewer=reviewer,
                state=_state(submission, reviewer.id in with_scores),
                saved_at=submission.saved_at if submission else None,
                submitted_at=submission.submitted_at if submission else None,
            )
        )
    return sorted(rows, key=lambda r: (r.team or "", r.reviewer.name.lower(), r.reviewer.id))


def _state(submission: Submission | None, has_scores: bool) -> State:
    if submission is not None and submission.submitted_at is not None:
        return State.submitted
    if submission is not None or has_scores:
        return State.partway
    return State.not_started
