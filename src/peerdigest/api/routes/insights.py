"""GET /api/v1/feedback-summaries/evaluation/{id}/insights: factors, labels and team reliability (teachers)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request, Response

from peerdigest.api.deps import SessionDep, SettingsDep, StaffEvaluation
from peerdigest.api.errors import ERRORS
from peerdigest.domain.insights import TEAMS_PER_PAGE, InsightsPage, Rules, insights_page

router = APIRouter(prefix="/api/v1/feedback-summaries", tags=["feedback summaries"])

MAX_TEAMS_PER_PAGE = 500  # a page's work stays a request's worth


@router.get(
    "/evaluation/{evaluation_id}/insights",
    response_model=InsightsPage,
    responses={
        **ERRORS,
        200: {"headers": {"Link": {"schema": {"type": "string"}, "description": '<…?page=N>; rel="next", unless last'}}},
    },
    summary="What the class's numbers say: contribution factors, labels, team reliability (teachers)",
    description="Computed from the stored scores at every request, so it always matches them. Per student: "
    "the average peer rating (self excluded) overall and per criterion, the self-rating, the contribution factor "
    "with and without self (capped at INSIGHTS_FACTOR_CAP), the rank in the team and labels with the numbers "
    "behind them. Per team: average, spread, submitted and expected reviewers, and whether the numbers are "
    "reliable (and why not). Students get 403: they never see labels or anyone's factor. docs/INSIGHTS.md has "
    "every formula and threshold.\n\n"
    "Paged by team, in team-name order: `limit` teams (and their students) per page, `page` 1 first. "
    "`teams_total` and `pages` say how many there are and `next_page` (also a `Link: rel=\"next\"` header) "
    "which page to ask for next, null on the last. A class of up to 100 teams is whole on the first page.",
)
def evaluation_insights(
    evaluation: StaffEvaluation,
    session: SessionDep,
    settings: SettingsDep,
    request: Request,
    response: Response,
    page: int = Query(1, ge=1, le=1_000_000, description="Which page of teams, 1 the first"),
    limit: int = Query(TEAMS_PER_PAGE, ge=1, le=MAX_TEAMS_PER_PAGE, description="Teams per page"),
) -> InsightsPage:
    answer = insights_page(session, evaluation.id, Rules.from_settings(settings), page, limit)
    if answer.next_page is not None:
        response.headers["Link"] = f'<{request.url.include_query_params(page=answer.next_page)}>; rel="next"'
    return answer
