"""The student's page: their own released summaries, one per evaluation they receive feedback in."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from peerdigest.api.deps import CurrentUser, SessionDep
from peerdigest.db.models import Evaluation, FeedbackSummary, SummaryJob
from peerdigest.domain import release
from peerdigest.domain.evaluations import evaluations_of
from peerdigest.domain.feedback import receives_feedback
from peerdigest.queue.jobs import open_job
from peerdigest.web.pages import page_router, render

router = page_router()


@dataclass(frozen=True)
class OwnSummary:
    evaluation: Evaluation
    summary: FeedbackSummary | None  # only a released one
    job: SummaryJob | None  # the open job writing it, if any
    may_generate: bool


@router.get("/my-summaries")
def my_summaries(request: Request, user: CurrentUser, session: SessionDep):
    rows = []
    for evaluation in evaluations_of(session, user, staff=False):
        if not receives_feedback(session, evaluation.id, user.id):
            continue
        shown = release.released_summary(session, evaluation, user.id)
        rows.append(
            OwnSummary(
                evaluation=evaluation,
                summary=shown,
                job=open_job(session, evaluation.id, user.id),
                may_generate=shown is None and release.students_may_generate(evaluation),
            )
        )
    return render(request, "my_summaries.html", user=user, rows=rows)
