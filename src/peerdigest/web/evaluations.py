"""Teacher pages: the school's evaluations, one evaluation's students and their summaries, one student's detail."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Query, Request
from sqlalchemy import select

from peerdigest.api.deps import CurrentUser, OwnStudent, SessionDep, SettingsDep, StaffEvaluation, StaffUser
from peerdigest.db.models import Allocation, Evaluation
from peerdigest.domain import release, review
from peerdigest.domain.evaluations import evaluations_of
from peerdigest.domain.feedback import anonymize, collect, evaluation_students
from peerdigest.domain.insights import TEAMS_PER_PAGE, Rules, analyse, insights_page, rating_sheet
from peerdigest.domain.summaries import stored_summary
from peerdigest.domain.summary_states import student_states
from peerdigest.summarize.injection import quotable, screened_out
from peerdigest.web.pages import page_router, render
from peerdigest.web.review import CONCERNS

router = page_router()


@router.get("/evaluations")
def evaluation_list(request: Request, user: StaffUser, session: SessionDep):
    evaluations = evaluations_of(session, user, staff=True)
    students = {e.id: len(evaluation_students(session, e.id)) for e in evaluations}
    return render(request, "evaluations.html", user=user, evaluations=evaluations, students=students)


@router.get("/evaluations/{evaluation_id}")
def evaluation_page(
    evaluation: StaffEvaluation, request: Request, user: CurrentUser, session: SessionDep, settings: SettingsDep
):
    insights = analyse(rating_sheet(session, evaluation.id), Rules.from_settings(settings))
    return render(request, "evaluation.html", user=user, evaluation=evaluation,
                  states=student_states(session, evaluation.id), insights=insights,
                  flagged=review.flag_counts(session, evaluation))


@router.get("/evaluations/{evaluation_id}/teams")
def team_page(
    evaluation: StaffEvaluation, request: Request, user: CurrentUser, session: SessionDep, settings: SettingsDep,
    page: int = Query(1, ge=1, le=1_000_000),
):
    """Per team: reliability, every student's factor and labels, and who rated whom how (a heat map);
    a page of teams at a time, as the API's insights (a class of up to a hundred teams is one page)."""
    insights = insights_page(session, evaluation.id, Rules.from_settings(settings), page, TEAMS_PER_PAGE)
    return render(request, "teams.html", user=user, evaluation=evaluation, insights=insights,
                  names={s.student_id: s.name for s in insights.students}, scale=_scale(evaluation.criteria),
                  per_page=TEAMS_PER_PAGE)


def _scale(criteria) -> tuple[float, float]:
    """The rating scale the heat map colours against (the criteria's lowest minimum and highest maximum)."""
    if not criteria:
        return (1.0, 5.0)
    return (min(c.min_score for c in criteria), max(c.max_score for c in criteria))


@dataclass(frozen=True)
class Bar:
    """One criterion of the chart: the student's average beside their team's, on the criterion's scale."""

    criterion: str
    own: float | None
    group: float | None
    min_score: float
    max_score: float

    def width(self, value: float | None) -> float:
        """The bar's length in percent of the scale."""
        if value is None or self.max_score <= self.min_score:
            return 0.0
        return round(100 * (value - self.min_score) / (self.max_score - self.min_score), 1)


def _comparison(session, evaluation: Evaluation, student_id: int, own) -> tuple[list[Bar], str | None]:
    """The student's per-criterion averages against their team's (None: the whole evaluation's, when in no team)."""
    team = session.scalar(
        select(Allocation.team).where(Allocation.evaluation_id == evaluation.id, Allocation.reviewee_id == student_id)
    )
    members = session.scalars(
        select(Allocation.reviewee_id).distinct().where(
            Allocation.evaluation_id == evaluation.id, *([Allocation.team == team] if team else [])
        )
    ).all()
    received = [collect(session, evaluation.id, member) for member in members]
    bars = []
    for criterion in own.criteria:
        values = [c.average for r in received for c in r.criteria
                  if c.criterion_id == criterion.criterion_id and c.average is not None]
        bars.append(Bar(criterion.name, criterion.average, round(sum(values) / len(values), 2) if values else None,
                        criterion.min_score, criterion.max_score))
    return bars, team


@router.get("/evaluations/{evaluation_id}/students/{student_id}")
def student_detail(request: Request, user: StaffUser, asked: OwnStudent, session: SessionDep):
    evaluation, student_id = asked.evaluation, asked.student_id
    own = collect(session, evaluation.id, student_id)
    summary = stored_summary(session, evaluation.id, student_id)
    bars, group = _comparison(session, evaluation, student_id, own)
    state = next(s for s in student_states(session, evaluation.id) if s.student_id == student_id)
    anonymized = anonymize(own)
    quotes = quotable(anonymized)
    return render(
        request, "student.html", user=user, evaluation=evaluation, student_name=own.student_name, summary=summary,
        quotes=quotes, bars=bars, group=group, state=state,
        flags=[found for _, found in review.flagged(quotes, evaluation.language)],
        released=release.released(evaluation, summary), concerns=CONCERNS, screened_out=screened_out(anonymized),
    )
