"""A reviewer's part in an evaluation: the scores they give, where they stand, and handing them in.

`save_scores` is the one way a reviewer's scores are written: the scores API
and the student's form (its autosave and its Save button) both call it. It
writes `score` rows through `evaluations.put_score`, the same step the importer
writes its rows with, so a score reads the same wherever it came from.

Beside the scores, a `submission` row records where the reviewer stands: no
row is "not started", a row is "partway" from the first save on, and
`submitted_at` makes it "submitted". A submitted form may still be changed until
the evaluation closes: it stays submitted while it stays complete.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from peerdigest.db.models import Allocation, Criterion, Evaluation, Score, Submission, User, utcnow
from peerdigest.domain.evaluations import EvaluationError, mark_stale_summaries, put_score
from peerdigest.i18n import Message, _

# The longest comment a reviewer can give on one criterion (the scores API's limit too).
COMMENT_MAX = 5000


class NotCollecting(EvaluationError):
    """The evaluation takes no scores now: it has not opened yet, its deadline passed, or it is archived."""


class DeadlinePassed(NotCollecting):
    pass


class NotYourReviewee(EvaluationError):
    pass


class State(StrEnum):
    not_started = "not_started"
    partway = "partway"
    submitted = "submitted"


@dataclass(frozen=True)
class ScoreEntry:
    reviewee_id: int
    criterion_id: int
    score: float | None
    comment: str | None


@dataclass(frozen=True)
class Saved:
    created: int
    updated: int
    unchanged: int
    summaries_marked_stale: int
    saved_at: datetime
    # A submitted form that this save left incomplete (a comment removed) is no longer submitted.
    still_submitted: bool


@dataclass(frozen=True)
class Missing:
    """What a form lacks before it can be submitted: a score on `criterion`, or (criterion None) a comment."""

    reviewee: User
    criterion: Criterion | None


class Incomplete(EvaluationError):
    def __init__(self, missing: list[Missing]):
        super().__init__(f"{len(missing)} answers are missing.")
        self.missing = missing


@dataclass(frozen=True)
class ReviewerProgress:
    team: str | None
    reviewer: User
    state: State
    saved_at: datetime | None
    submitted_at: datetime | None


@dataclass(frozen=True)
class Sheet:
    """One reviewer's form: whom they score on which criteria, what they gave so far, and their submission."""

    evaluation: Evaluation
    reviewer: User
    reviewees: list[User]  # teammates by name, then the reviewer themself when the evaluation asks a self-rating
    criteria: list[Criterion]
    given: dict[tuple[int, int], Score]  # by (reviewee id, criterion id)
    submission: Submission | None

    def value(self, reviewee_id: int, criterion_id: int) -> float | None:
        score = self.given.get((reviewee_id, criterion_id))
        return score.value if score is not None else None

    def comment(self, reviewee_id: int, criterion_id: int) -> str:
        score = self.given.get((reviewee_id, criterion_id))
        return score.comment or "" if score is not None else ""

    @property
    def state(self) -> State:
        return _state(self.submission, any(s.value is not None or s.comment for s in self.given.values()))


def collecting(evaluation: Evaluation, now: datetime | None = None) -> bool:
    """Whether the evaluation takes scores now: opened (or no opening time), before its deadline, not archived."""
    now = now or utcnow()
    return (
        evaluation.archived_at is None
        and (evaluation.opens_at is None or evaluation.opens_at <= now)
        and (evaluation.deadline is None or now < evaluation.deadline)
    )


def check_collecting(evaluation: Evaluation, now: datetime | None = None) -> None:
    now = now or utcnow()
    if evaluation.archived_at is not None:
        raise NotCollecting("This evaluation is archived; it takes no more scores.")
    if evaluation.opens_at is not None and now < evaluation.opens_at:
        raise NotCollecting(f"This evaluation opens on {evaluation.opens_at:%Y-%m-%d %H:%M} UTC.")
    if evaluation.deadline is not None and now >= evaluation.deadline:
        raise DeadlinePassed(f"The deadline of this evaluation passed on {evaluation.deadline:%Y-%m-%d %H:%M} UTC.")


def save_scores(session: Session, evaluation: Evaluation, reviewer: User, entries: Iterable[ScoreEntry]) -> Saved:
    """Store a reviewer's scores and comments for their own reviewees, all or none, while the evaluation collects.

    A score of None with a comment is a comment only; a score and a comment both
    empty clear what was there. Records the save on the reviewer's submission.
    """
    now = utcnow()
    check_collecting(evaluation, now)
    allocations = _allocations(session, evaluation, reviewer)
    criteria = {c.id: c for c in evaluation.criteria}
    existing = {
        (s.allocation_id, s.criterion_id): s
        for s in session.scalars(select(Score).where(Score.allocation_id.in_([a.id for a in allocations.values()])))
    }
    created = updated = unchanged = 0
    changed_students: set[int] = set()
    for entry in entries:
        allocation = allocations.get(entry.reviewee_id)
        if allocation is None and entry.reviewee_id == reviewer.id and evaluation.self_rating:
            allocation = allocations[reviewer.id] = _self_allocation(session, evaluation, reviewer, allocations)
        if allocation is None:
            raise NotYourReviewee(Message("You are not asked to review student %(id)s in this evaluation.",
                                          id=entry.reviewee_id))
        criterion = criteria.get(entry.criterion_id)
        if criterion is None:
            raise EvaluationError(Message("Criterion %(id)s is not part of this evaluation.", id=entry.criterion_id))
        if entry.score is not None and not criterion.min_score <= entry.score <= criterion.max_score:
            raise EvaluationError(Message(
                "Score %(score)s for %(criterion)r is outside its scale %(low)s-%(high)s.", score=f"{entry.score:g}",
                criterion=criterion.name, low=f"{criterion.min_score:g}", high=f"{criterion.max_score:g}"))
        comment = _comment(entry.comment, criterion)
        if entry.score is None and comment is None and (allocation.id, criterion.id) not in existing:
            # An answer left empty (the whole form posted by its Save button) needs no row.
            unchanged += 1
            continue
        change = put_score(session, existing, allocation, criterion, entry.score, comment)
        if change == "unchanged":
            unchanged += 1
            continue
        created += change == "created"
        updated += change == "updated"
        changed_students.add(entry.reviewee_id)
    session.flush()
    submission = _submission(session, evaluation.id, reviewer.id, now)
    submission.saved_at = now
    if submission.submitted_at is not None and missing(sheet(session, evaluation, reviewer)):
        submission.submitted_at = None
    session.flush()
    stale = mark_stale_summaries(session, evaluation.id, changed_students)
    return Saved(created, updated, unchanged, stale, now, submission.submitted_at is not None)


def sheet(session: Session, evaluation: Evaluation, reviewer: User) -> Sheet:
    """The reviewer's form as it stands."""
    allocations = _allocations(session, evaluation, reviewer)
    users = {
        u.id: u for u in session.scalars(select(User).where(User.id.in_([r for r in allocations if r != reviewer.id])))
    }
    reviewees = sorted(users.values(), key=lambda u: (u.name.lower(), u.id))
    if evaluation.self_rating:
        reviewees.append(reviewer)
    shown = {u.id for u in reviewees}
    given = {
        (allocation.reviewee_id, score.criterion_id): score
        for allocation in allocations.values()
        if allocation.reviewee_id in shown
        for score in allocation.scores
    }
    return Sheet(evaluation, reviewer, reviewees, list(evaluation.criteria), given, _find(session, evaluation.id, reviewer.id))


def missing(form: Sheet) -> list[Missing]:
    """What must still be given before the form can be submitted, teammate by teammate.

    Every criterion needs a score. A comment belongs to the criterion it is
    about (the score row's `comment`): the summaries quote a comment beside its
    criterion and its score (`feedback.collect`), so a comment stored elsewhere
    would be attributed to the wrong criterion. Hence "a comment required" asks
    for at least one comment per teammate, on whichever criterion they choose.
    The self-rating needs no comment: it is never quoted to anyone.
    """
    lacking = []
    for reviewee in form.reviewees:
        lacking += [Missing(reviewee, c) for c in form.criteria if form.value(reviewee.id, c.id) is None]
        is_self = reviewee.id == form.reviewer.id
        if form.evaluation.comment_required and not is_self and not any(
            form.comment(reviewee.id, c.id).strip() for c in form.criteria
        ):
            lacking.append(Missing(reviewee, None))
    return lacking


def submit(session: Session, evaluation: Evaluation, reviewer: User) -> Submission:
    """Hand the form in: every score given (and a comment per teammate where required), while it collects.

    Raises `Incomplete` listing what is missing; submitting again later only
    moves `submitted_at`.
    """
    now = utcnow()
    check_collecting(evaluation, now)
    form = sheet(session, evaluation, reviewer)
    lacking = missing(form)
    if lacking:
        raise Incomplete(lacking)
    submission = _submission(session, evaluation.id, reviewer.id, now)
    submission.submitted_at = now
    session.flush()
    return submission


def state_of(session: Session, evaluation: Evaluation, reviewer: User) -> State:
    return sheet(session, evaluation, reviewer).state


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
            .where(Allocation.evaluation_id == evaluation.id, or_(Score.value.is_not(None), Score.comment.is_not(None)))
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


def reviewing(session: Session, user: User) -> list[Evaluation]:
    """The evaluations of the user's school in which they score someone, not archived, newest deadline first."""
    query = (
        select(Evaluation)
        .where(
            Evaluation.school_id == user.school_id,
            Evaluation.archived_at.is_(None),
            Evaluation.id.in_(select(Allocation.evaluation_id).where(Allocation.reviewer_id == user.id)),
        )
        .order_by(Evaluation.id.desc())
    )
    return list(session.scalars(query))


def _state(submission: Submission | None, has_scores: bool) -> State:
    if submission is not None and submission.submitted_at is not None:
        return State.submitted
    if submission is not None or has_scores:
        return State.partway
    return State.not_started


def _comment(text: str | None, criterion: Criterion) -> str | None:
    comment = (text or "").strip() or None
    if comment is None:
        return None
    if len(comment) > COMMENT_MAX:
        raise EvaluationError(
            _("The comment on %(criterion)s is longer than %(most)s characters.", criterion=criterion.name, most=COMMENT_MAX)
        )
    if "\x00" in comment:
        raise EvaluationError(_("The comment on %(criterion)s contains a NUL character (\\0).", criterion=criterion.name))
    try:
        comment.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate: no database stores it
        raise EvaluationError(
            _("The comment on %(criterion)s is not valid text (a broken character).", criterion=criterion.name)
        ) from exc
    return comment


def _allocations(session: Session, evaluation: Evaluation, reviewer: User) -> dict[int, Allocation]:
    return {
        a.reviewee_id: a
        for a in session.scalars(
            select(Allocation).where(Allocation.evaluation_id == evaluation.id, Allocation.reviewer_id == reviewer.id)
        )
    }


def _self_allocation(
    session: Session, evaluation: Evaluation, reviewer: User, allocations: dict[int, Allocation]
) -> Allocation:
    """The reviewer's allocation to themself, made at their first self-rating (an evaluation asks it by `self_rating`)."""
    team = next((a.team for a in allocations.values()), None)
    allocation = Allocation(
        evaluation_id=evaluation.id, reviewer_id=reviewer.id, reviewee_id=reviewer.id, team=team, is_self=True
    )
    session.add(allocation)
    session.flush()
    return allocation


def _find(session: Session, evaluation_id: int, reviewer_id: int) -> Submission | None:
    return session.scalar(
        select(Submission).where(Submission.evaluation_id == evaluation_id, Submission.reviewer_id == reviewer_id)
    )


def _submission(session: Session, evaluation_id: int, reviewer_id: int, now: datetime) -> Submission:
    """The reviewer's submission row, made at their first save."""
    found = _find(session, evaluation_id, reviewer_id)
    if found is not None:
        return found
    try:
        # Two saves of the same reviewer at once (two tabs) may both make the row: the second takes the first's.
        with session.begin_nested():
            submission = Submission(evaluation_id=evaluation_id, reviewer_id=reviewer_id, started_at=now, saved_at=now)
            session.add(submission)
    except IntegrityError:
        return _find(session, evaluation_id, reviewer_id)
    return submission
