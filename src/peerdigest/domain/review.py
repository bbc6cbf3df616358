"""Review before release: the teacher's approvals and edits, and the comments flagged for them.

Whether a student may read a summary is domain/release.py's rule: under
`release: after_review` only once a teacher approved it, as written or edited.
Every approval and edit records who and when. A summary written anew
(regenerated, or rewritten after the feedback changed) is new text no teacher
has read: it starts unapproved, and under review the student sees nothing
until it is approved again.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select
from sqlalchemy.orm import Session

from peerdigest.db.models import Allocation, Evaluation, FeedbackSummary, Score, User, utcnow
from peerdigest.domain.flags import Flag, flag
from peerdigest.domain.received import Comment
from peerdigest.i18n import N_, Message

MAX_TEXT = 5000


class ReviewError(Exception):
    """A review action that cannot be done as asked; the message says why."""


def approve(summary: FeedbackSummary, by: User) -> FeedbackSummary:
    """Release the summary as it stands; approving again records the latest approver."""
    summary.approved_by_id = by.id
    summary.approved_at = utcnow()
    return summary


def edit_and_approve(summary: FeedbackSummary, text: str, by: User) -> FeedbackSummary:
    """Replace the text with the teacher's and release it; an unchanged text is an approval alone."""
    text = text.strip()
    if not text:
        raise ReviewError(N_("The summary text is empty; write what the student should read."))
    if len(text) > MAX_TEXT:
        raise ReviewError(Message("The summary text is %(length)s characters long; at most %(limit)s are allowed.",
                                  length=len(text), limit=MAX_TEXT))
    if text != summary.summary_text:
        summary.summary_text = text
        summary.edited_by_id = by.id
        summary.edited_at = utcnow()
    return approve(summary, by)


def approve_all_completed(session: Session, evaluation: Evaluation, by: User) -> list[FeedbackSummary]:
    """Approve every written summary of the evaluation that is not approved yet; returns those approved now."""
    waiting = session.scalars(
        select(FeedbackSummary)
        .where(FeedbackSummary.evaluation_id == evaluation.id, FeedbackSummary.approved_at.is_(None))
        .order_by(FeedbackSummary.student_id)
    ).all()
    return [approve(summary, by) for summary in waiting]


def start_over(summary: FeedbackSummary) -> None:
    """A newly written text: forget the approval and the edit of the text it replaces."""
    summary.approved_by_id = None
    summary.approved_at = None
    summary.edited_by_id = None
    summary.edited_at = None


def flagged(comments: tuple[Comment, ...] | list[Comment], language: str) -> list[tuple[Comment, Flag | None]]:
    """Each comment with why a teacher should read it themself (None: nothing to flag)."""
    return [(comment, flag(comment.text, language)) for comment in comments]


def visible_to_student(comments: tuple[Comment, ...] | list[Comment], language: str) -> list[Comment]:
    """The comments a student may read: never a flagged one."""
    return [comment for comment, found in flagged(comments, language) if found is None]


def flag_counts(session: Session, evaluation: Evaluation) -> Counter[int]:
    """How many flagged comments each student received in the evaluation (self-assessments excluded)."""
    rows = session.execute(
        select(Allocation.reviewee_id, Score.comment)
        .join(Allocation, Score.allocation_id == Allocation.id)
        .where(Allocation.evaluation_id == evaluation.id, Allocation.is_self.is_(False), Score.comment.is_not(None))
    ).all()
    return Counter(student_id for student_id, text in rows if text.strip() and flag(text, evaluation.language))
