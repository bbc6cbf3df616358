"""The insights of an evaluation: for its teachers only, always computed from the scores as they are now."""

import pytest
from sqlalchemy import select

from peerdigest.db.models import Allocation, Score
from peerdigest.db.session import session_scope
from peerdigest.domain.insights import Rules, analyse, rating_sheet
from tests.support.api import PREFIX, STUDENT_19, TEACHER, api_client
from tests.support.classes import add_teams


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


def test_a_class_is_paged_by_team_and_every_team_and_student_comes_once_with_its_whole_class_numbers(demo_school):
    with session_scope(demo_school.database_url) as session:
        add_teams(session, 56, 23, 3)  # with the demo's Team Noord and Team Zuid: 25 teams
        whole = analyse(rating_sheet(session, 56), Rules.from_settings(demo_school))
    client = api_client(demo_school)
    pages, page = [], 1
    while page is not None:
        response = client.get(f"{PREFIX}/evaluation/56/insights", params={"page": page, "limit": 7}, headers=TEACHER)
        body = response.json()
        assert (body["teams_total"], body["pages"], body["page"]) == (25, 4, page)
        if body["next_page"] is not None:
            assert response.headers["link"].endswith(f'/evaluation/56/insights?limit=7&page={page + 1}>; rel="next"')
        else:
            assert "link" not in response.headers
        pages.append(body)
        page = body["next_page"]
    assert [len(p["teams"]) for p in pages] == [7, 7, 7, 4]
    teams = [t["name"] for p in pages for t in p["teams"]]
    assert teams == sorted(teams) == sorted(t.name for t in whole.teams)  # each once, in name order
    for p in pages:
        assert {s["team"] for s in p["students"]} == {t["name"] for t in p["teams"]}
    students = {s["student_id"]: (s["factor"], [label["code"] for label in s["labels"]]) for p in pages for s in p["students"]}
    assert students == {s.student_id: (s.factor, [label.code for label in s.labels]) for s in whole.students}
    assert sum(len(p["students"]) for p in pages) == len(students)


def test_a_page_past_the_last_is_empty_and_a_page_or_limit_out_of_range_is_refused(demo_school):
    client = api_client(demo_school)
    past = client.get(f"{PREFIX}/evaluation/56/insights", params={"page": 2}, headers=TEACHER).json()
    assert (past["teams"], past["students"], past["teams_total"], past["next_page"]) == ([], [], 2, None)
    for params in ({"page": 0}, {"limit": 0}, {"limit": 501}):
        assert client.get(f"{PREFIX}/evaluation/56/insights", params=params, headers=TEACHER).status_code == 422


@pytest.mark.slow
@pytest.mark.timeout(120)  # generous: minutes before, when each team and each student scanned the whole class
def test_an_evaluation_of_fifty_thousand_ratings_answers_its_insights_and_export(demo_school):
    """12,500 teams of two rating each other on two criteria: the work grows with the ratings, not their square."""
    teams = 12_500
    with session_scope(demo_school.database_url) as session:
        add_teams(session, 56, teams)
    client = api_client(demo_school)
    insights = client.get(f"{PREFIX}/evaluation/56/insights", params={"limit": 500}, headers=TEACHER)
    assert insights.status_code == 200
    assert insights.json()["teams_total"] == teams + 2 and len(insights.json()["students"]) == 2 * 500
    last = client.get(f"{PREFIX}/evaluation/56/insights", params={"limit": 500, "page": 26}, headers=TEACHER).json()
    assert last["next_page"] is None and len(last["teams"]) == 2  # 12,502 teams: 25 full pages and two left
    export = client.get(f"{PREFIX}/evaluation/56/export", params={"format": "csv"}, headers=TEACHER)
    assert export.status_code == 200
    assert export.text.count("\n") > 2 * teams
