"""The insights of an evaluation: for its teachers only, always computed from the scores as they are now."""

from sqlalchemy import select

from peerdigest.db.models import Allocation, Score
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
