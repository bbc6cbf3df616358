"""The unit of work's end: actions wait for the commit, and discarded writes are gone (SQLite and PostgreSQL)."""

import pytest
from sqlalchemy import select

from peerdigest.db.models import School
from peerdigest.db.session import after_commit, discard_writes, session_scope


def _schools(url: str) -> list[str]:
    """What a fresh session, as another process would, finds committed."""
    with session_scope(url) as session:
        return list(session.scalars(select(School.name).order_by(School.name)))


def test_an_action_runs_after_the_commit_and_finds_the_row_committed(database_url):
    seen = []
    with session_scope(database_url) as session:
        session.add(School(name="Noord"))
        session.flush()
        after_commit(session, lambda: seen.append(_schools(database_url)))
        assert seen == []
    assert seen == [["Noord"]]


def test_an_action_never_runs_when_the_unit_of_work_fails(database_url):
    ran = []
    with pytest.raises(RuntimeError), session_scope(database_url) as session:
        session.add(School(name="Noord"))
        after_commit(session, lambda: ran.append("queued"))
        raise RuntimeError("the step failed")
    assert ran == []
    assert _schools(database_url) == []


def test_an_action_dropped_by_a_rollback_stays_dropped_when_the_session_commits_later(database_url):
    """As after `queue.enqueue`'s rollback of a lost race: the session goes on, the rolled-back rows' actions do not."""
    ran = []
    with session_scope(database_url) as session:
        session.add(School(name="Lost"))
        session.flush()
        after_commit(session, lambda: ran.append("lost"))
        session.rollback()
        session.add(School(name="Won"))
    assert ran == []
    assert _schools(database_url) == ["Won"]


def test_an_action_never_runs_when_the_commit_itself_fails(database_url):
    with session_scope(database_url) as session:
        session.add(School(name="Noord"))
    ran = []
    with pytest.raises(Exception, match="(?i)unique|duplicate"), session_scope(database_url) as session:
        session.add(School(name="Zuid"))
        session.add(School(name="Noord"))  # flushed by the commit, where the unique name refuses it
        after_commit(session, lambda: ran.append("queued"))
    assert ran == []
    assert _schools(database_url) == ["Noord"]


def test_discarded_writes_and_their_actions_are_gone_while_later_writes_are_kept(database_url):
    ran = []
    with session_scope(database_url) as session:
        session.add(School(name="Refused"))
        session.flush()
        after_commit(session, lambda: ran.append("refused"))
        discard_writes(session)
        assert session.scalars(select(School.name)).all() == []  # the page goes on reading the database as it was
        session.add(School(name="Kept"))
        after_commit(session, lambda: ran.append("kept"))
    assert ran == ["kept"]
    assert _schools(database_url) == ["Kept"]


def test_a_savepoint_released_inside_the_transaction_does_not_run_its_actions_early(database_url):
    seen = []
    with session_scope(database_url) as session:
        after_commit(session, lambda: seen.append(_schools(database_url)))
        with session.begin_nested():
            session.add(School(name="Noord"))
        assert seen == []
    assert seen == [["Noord"]]


def test_a_failing_action_leaves_the_commit_standing_and_the_next_actions_run(database_url, caplog):
    ran = []

    def fails():
        raise ConnectionError("Redis is away")

    with session_scope(database_url) as session:
        session.add(School(name="Noord"))
        after_commit(session, fails)
        after_commit(session, lambda: ran.append("next"))
    assert _schools(database_url) == ["Noord"]
    assert ran == ["next"]
    assert "the committed rows stand" in caplog.text
