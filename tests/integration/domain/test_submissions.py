"""A reviewer's scores and where they stand: saving partway, submitting, the window, everyone's progress."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from peerdigest.db.models import Allocation, Evaluation, Score, User, utcnow
from peerdigest.db.session import session_scope
from peerdigest.domain import submissions
from peerdigest.domain.evaluations import EvaluationError
from peerdigest.domain.feedback import collect
from peerdigest.domain.submissions import Incomplete, NotCollecting, ScoreEntry, State
from tests.support.collect import JAN, LISA, MOHAMMED, SANNE, open_evaluation


def _ids(session, evaluation_id):
    evaluation = session.get(Evaluation, evaluation_id)
    return evaluation, [c.id for c in evaluation.criteria]


def test_a_reviewer_saves_partway_then_submits_and_the_progress_says_so(demo_school):
    evaluation_id = open_evaluation(demo_school)
    with session_scope(demo_school.database_url) as session:
        evaluation, (together, effort) = _ids(session, evaluation_id)
        jan = session.get(User, JAN)
        assert submissions.state_of(session, evaluation, jan) == State.not_started

        saved = submissions.save_scores(session, evaluation, jan, [ScoreEntry(SANNE, together, 4, " Sanne plans well ")])
        assert (saved.created, saved.still_submitted) == (1, False)
        assert submissions.state_of(session, evaluation, jan) == State.partway

        with pytest.raises(Incomplete) as refused:
            submissions.submit(session, evaluation, jan)
        missing = {(m.reviewee.name, m.criterion.name) for m in refused.value.missing}
        assert ("Sanne Bakker", "Effort") in missing and ("Lisa Jansen", "Collaboration") in missing
        assert len(missing) == 5

        submissions.save_scores(
            session, evaluation, jan,
            [ScoreEntry(SANNE, effort, 9, None)]
            + [ScoreEntry(peer, c, 3, None) for peer in (MOHAMMED, LISA) for c in (together, effort)],
        )
        submitted = submissions.submit(session, evaluation, jan)
        assert submitted.submitted_at is not None
        assert submissions.state_of(session, evaluation, jan) == State.submitted

        # The same rows the import and the API write: collect reads the comment beside its criterion and score.
        received = collect(session, evaluation_id, SANNE)
        assert [(c.criterion, c.text, c.score) for c in received.comments] == [("Collaboration", "Sanne plans well", 4)]

        progress = {p.reviewer.id: p for p in submissions.progress(session, evaluation)}
    assert progress[JAN].state == State.submitted and progress[JAN].team == "Team Noord"
    assert progress[JAN].saved_at is not None and progress[JAN].submitted_at is not None
    assert progress[SANNE].state == State.not_started and progress[SANNE].saved_at is None
    assert len(progress) == 8


def test_a_required_comment_is_asked_per_teammate_at_submit_not_at_save(demo_school):
    evaluation_id = open_evaluation(demo_school, comment_required=True)
    with session_scope(demo_school.database_url) as session:
        evaluation, criteria = _ids(session, evaluation_id)
        jan = session.get(User, JAN)
        submissions.save_scores(
            session, evaluation, jan, [ScoreEntry(peer, c, 4, None) for peer in (SANNE, MOHAMMED, LISA) for c in criteria]
        )
        with pytest.raises(Incomplete) as refused:
            submissions.submit(session, evaluation, jan)
        assert {(m.reviewee.id, m.criterion) for m in refused.value.missing} == {
            (SANNE, None), (MOHAMMED, None), (LISA, None)
        }
        submissions.save_scores(
            session, evaluation, jan, [ScoreEntry(peer, criteria[1], 4, "Worked hard") for peer in (SANNE, MOHAMMED, LISA)]
        )
        submissions.submit(session, evaluation, jan)

        # Changing a submitted form keeps it submitted while it stays complete; removing a needed comment does not.
        assert submissions.save_scores(session, evaluation, jan, [ScoreEntry(SANNE, criteria[0], 5, None)]).still_submitted
        assert not submissions.save_scores(session, evaluation, jan, [ScoreEntry(SANNE, criteria[1], 4, "")]).still_submitted
        assert submissions.state_of(session, evaluation, jan) == State.partway


def test_a_self_rating_is_scored_on_an_allocation_made_at_the_first_save_and_stays_out_of_what_peers_gave(demo_school):
    evaluation_id = open_evaluation(demo_school, self_rating=True)
    with session_scope(demo_school.database_url) as session:
        evaluation, criteria = _ids(session, evaluation_id)
        jan = session.get(User, JAN)
        assert [u.id for u in submissions.sheet(session, evaluation, jan).reviewees][-1] == JAN
        submissions.save_scores(session, evaluation, jan, [ScoreEntry(JAN, criteria[0], 5, "I did a lot")])
        own = session.scalar(select(Allocation).where(Allocation.evaluation_id == evaluation_id,
                                                      Allocation.reviewer_id == JAN, Allocation.reviewee_id == JAN))
        assert own.is_self and own.team == "Team Noord"
        assert collect(session, evaluation_id, JAN).comments == ()


@pytest.mark.parametrize(
    "window",
    [
        {"deadline": utcnow() - timedelta(minutes=1)},
        {"opens_at": utcnow() + timedelta(days=1)},
        {"archived_at": utcnow()},
    ],
    ids=["closed", "not-open-yet", "archived"],
)
def test_outside_its_window_an_evaluation_takes_no_score_and_no_submit(demo_school, window):
    evaluation_id = open_evaluation(demo_school, **window)
    with session_scope(demo_school.database_url) as session:
        evaluation, criteria = _ids(session, evaluation_id)
        jan = session.get(User, JAN)
        assert not submissions.collecting(evaluation)
        with pytest.raises(NotCollecting):
            submissions.save_scores(session, evaluation, jan, [ScoreEntry(SANNE, criteria[0], 4, None)])
        with pytest.raises(NotCollecting):
            submissions.submit(session, evaluation, jan)
        assert session.scalar(select(Score).join(Allocation).where(Allocation.evaluation_id == evaluation_id)) is None


@pytest.mark.parametrize("comment", ["a\x00b", "x" * 5001, "broken \ud800 text"], ids=["nul", "too-long", "surrogate"])
def test_a_comment_no_database_can_store_is_refused_in_words(demo_school, comment):
    evaluation_id = open_evaluation(demo_school)
    with session_scope(demo_school.database_url) as session:
        evaluation, criteria = _ids(session, evaluation_id)
        with pytest.raises(EvaluationError, match="Collaboration"):
            submissions.save_scores(session, evaluation, session.get(User, JAN), [ScoreEntry(SANNE, criteria[0], 4, comment)])
