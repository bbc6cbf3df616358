"""The insights of an evaluation: for its teachers only, always computed from the scores as they are now."""

import pytest
from sqlalchemy import func, insert, select

from peerdigest.db.models import Allocation, Evaluation, Score, User
from peerdigest.db.session import session_scope
from tests.support.api import PREFIX, STUDENT_19, TEACHER, api_client


def insights(client, headers=TEACHER, evaluation=56):
    return client.get(f"{PREFIX}/evaluation/{evaluation}/insights", headers=headers)


def test_a_teacher_sees_every_student_and_team_of_the_demo_class(demo_school):
    body = insights(api_client(demo_school)).json()
    assert sorted(s["student_id"] for s in body["students"]) == list(range(19, 27))
    assert sorted(t["name"] for t in body["teams"]) == ["Team Noord", "Team Zuid"]
    noord = next(t for t in body["teams"] if t["name"] == "Team Noord")
    assert (noord["expected"], noord["submitted"]) == (4, 4)
    assert sorted(s["rank"] for s in body["students"] if s["team"] == "Team Noord") == [1, 1, 3, 4]  # Sanne and Mohammed tie
    assert body["rules"]["factor_cap"] == demo_school.insights_factor_cap


def test_students_never_see_insights_and_another_school_sees_nothing(demo_school, other_school_teacher):
    client = api_client(demo_school)
    assert insights(client, STUDENT_19).status_code == 403
    assert insights(client, other_school_teacher).status_code == 404


def test_insights_follow_the_scores_at_once(demo_school):
    client = api_client(demo_school)
    before = next(s for s in insights(client).json()["students"] if s["student_id"] == 22)
    with session_scope(demo_school.database_url) as session:
        received = session.scalars(
            select(Score).join(Allocation).where(Allocation.evaluation_id == 56, Allocation.reviewee_id == 22,
                                                 Allocation.is_self.is_(False))
        )
        for score in received:
            score.value = 5
    after = next(s for s in insights(client).json()["students"] if s["student_id"] == 22)
    assert after["peer_average"] == 5 and after["peer_average"] > before["peer_average"]
    assert "high_performer" in {label["code"] for label in after["labels"]}


def test_what_a_student_received_carries_how_their_self_rating_compares_and_it_counts_in_the_fingerprint(demo_school):
    from peerdigest.domain.feedback import collect, feedback_hash

    with session_scope(demo_school.database_url) as session:
        before = collect(session, 56, 19)
        own = session.scalars(
            select(Score).join(Allocation).where(Allocation.evaluation_id == 56, Allocation.reviewee_id == 19,
                                                 Allocation.is_self.is_(True))
        ).all()
        for score in own:
            score.value = 5
        session.flush()
        after = collect(session, 56, 19)
    assert after.self_gap > before.self_gap and after.self_gap >= 0.4
    assert feedback_hash(after) != feedback_hash(before)


@pytest.mark.slow
@pytest.mark.timeout(120)  # generous: minutes before, when each team and each student scanned the whole class
def test_an_evaluation_of_fifty_thousand_ratings_answers_its_insights_and_export(demo_school):
    """12,500 teams of two rating each other on two criteria: the work grows with the ratings, not their square."""
    teams = 12_500
    with session_scope(demo_school.database_url) as session:
        evaluation = session.get(Evaluation, 56)
        school_id = evaluation.school_id
        criteria = [c.id for c in evaluation.criteria[:2]]
        first_user = (session.scalar(select(func.max(User.id))) or 0) + 1
        session.execute(insert(User), [
            {"id": first_user + n, "email": f"big{n}@example.com", "name": f"Student {n}", "role": "student",
             "school_id": school_id} for n in range(2 * teams)
        ])
        first_allocation = (session.scalar(select(func.max(Allocation.id))) or 0) + 1
        pairs = [(first_user + 2 * t + a, first_user + 2 * t + 1 - a, f"Big team {t}") for t in range(teams) for a in (0, 1)]
        session.execute(insert(Allocation), [
            {"id": first_allocation + n, "evaluation_id": 56, "reviewer_id": r, "reviewee_id": e, "team": team,
             "is_self": False} for n, (r, e, team) in enumerate(pairs)
        ])
        session.execute(insert(Score), [
            {"allocation_id": first_allocation + n, "criterion_id": c, "value": 3 + (n % 2)}
            for n in range(len(pairs)) for c in criteria
        ])
    client = api_client(demo_school)
    insights = client.get(f"{PREFIX}/evaluation/56/insights", headers=TEACHER)
    assert insights.status_code == 200
    assert len(insights.json()["students"]) >= 2 * teams
    export = client.get(f"{PREFIX}/evaluation/56/export", params={"format": "csv"}, headers=TEACHER)
    assert export.status_code == 200
    assert export.text.count("\n") > 2 * teams
