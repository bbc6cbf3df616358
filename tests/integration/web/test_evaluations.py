"""The teachers' evaluation pages: the teams page shows a large class a page of teams at a time."""

import re

from peerdigest.db.session import session_scope
from tests.support.api import api_client
from tests.support.classes import add_teams
from tests.support.web import sign_in


def teams_on(page: str) -> list[str]:
    return re.findall(r'<section class="card team" data-team="([^"]+)">', page)


def test_a_class_of_a_hundred_and_three_teams_shows_each_team_once_over_two_pages(demo_school):
    with session_scope(demo_school.database_url) as session:
        add_teams(session, 56, 101, 3)  # with the demo's Team Noord and Team Zuid: 103 teams
    client = api_client(demo_school)
    sign_in(client, "docent@example.com")
    first = client.get("/evaluations/56/teams").text
    assert "Teams 1–100 of 103" in first and 'href="?page=2" rel="next"' in first and 'rel="prev"' not in first
    second = client.get("/evaluations/56/teams", params={"page": 2}).text
    assert "Teams 101–103 of 103" in second and 'href="?page=1" rel="prev"' in second and 'rel="next"' not in second
    teams = teams_on(first) + teams_on(second)
    assert len(teams) == len(set(teams)) == 103 and teams == sorted(teams)


def test_a_normal_class_is_one_page_without_page_links(demo_school):
    client = api_client(demo_school)
    sign_in(client, "docent@example.com")
    page = client.get("/evaluations/56/teams").text
    assert teams_on(page) == ["Team Noord", "Team Zuid"] and 'class="pager"' not in page


def test_students_and_other_schools_cannot_open_the_teams_page(demo_school, other_school_teacher):
    client = api_client(demo_school)
    sign_in(client, "jan@example.com")
    assert client.get("/evaluations/56/teams").status_code == 403
    other = api_client(demo_school)
    sign_in(other, "juf@andere.example")
    assert other.get("/evaluations/56/teams", params={"page": 2}).status_code == 404
