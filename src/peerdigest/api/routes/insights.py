"""GET /api/v1/feedback-summaries/evaluation/{id}/insights: factors, labels and team reliability (teachers)."""

from __future__ import annotations

from fastapi import APIRouter

from peerdigest.api.deps import SessionDep, SettingsDep, StaffEvaluation
from peerdigest.api.errors import ERRORS
from peerdigest.domain.insights import Insights, Rules, analyse, rating_sheet

router = APIRouter(prefix="/api/v1/feedback-summaries", tags=["feedback summaries"])


@router.get(
    "/evaluation/{evaluation_id}/insights",
    response_model=Insights,
    responses=ERRORS,
    summary="What the class's numbers say: contribution factors, labels, team reliability (teachers)",
    description="Computed from the stored scores at every request, so it always matches them. Per student: "
    "the average peer rating (self excluded) overall and per criterion, the self-rating, the contribution factor "
    "with and without self (capped at INSIGHTS_FACTOR_CAP), the rank in the team and labels with the numbers "
    "behind them. Per team: average, spread, submitted and expected reviewers, and whether the numbers are "
    "reliable (and why not). Students get 403: they never see labels or anyone's factor. docs/INSIGHTS.md has "
    "every formula and threshold.",
)
def evaluation_insights(evaluation: StaffEvaluation, session: SessionDep, settings: SettingsDep) -> Insights:
    return analyse(rating_sheet(session, evaluation.id), Rules.from_settings(settings))
