"""The scheduler around an evaluation's deadline: the automatic reminder N hours before, written once,
and the summaries of the whole evaluation queued at close, once, whatever number of passes or restarts."""

from datetime import timedelta

from rq import Queue
from sqlalchemy import func, select

from peerdigest.db.models import Evaluation, OutgoingMail, Priority, SummaryJob, utcnow
from peerdigest.db.session import session_scope
from peerdigest.queue.cron import close_due, remind_due
from peerdigest.queue.queues import queue_name
from tests.support.api import TEACHER, api_client
from tests.support.web import sign_in


def _set(settings, evaluation_id: int, **values) -> None:
    with session_scope(settings.database_url) as session:
        evaluation = session.get(Evaluation, evaluation_id)
        for name, value in values.items():
            setattr(evaluation, name, value)


def _count(settings, model, *where) -> int:
    with session_scope(settings.database_url) as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def test_at_close_the_summaries_of_the_whole_evaluation_are_queued_exactly_once(demo_school, redis):
    _set(demo_school, 56, deadline=utcnow() - timedelta(minutes=1))
    _set(demo_school, 57, deadline=utcnow() + timedelta(days=1))  # still open

    assert close_due(demo_school, redis) == 1
    assert close_due(demo_school, redis) == 0, "a second pass (or a restarted scheduler) queues nothing"
    assert _count(demo_school, SummaryJob, SummaryJob.evaluation_id == 56) == 8
    assert _count(demo_school, SummaryJob, SummaryJob.evaluation_id == 57) == 0
    assert Queue(queue_name(Priority.low), connection=redis).count == 8
    with session_scope(demo_school.database_url) as session:
        assert session.get(Evaluation, 56).close_queued_at is not None


def test_an_evaluation_without_a_deadline_is_never_closed(demo_school, redis):
    assert close_due(demo_school, redis) == 0
    assert _count(demo_school, SummaryJob) == 0


def test_the_automatic_reminder_goes_once_when_its_hour_has_come(demo_school, redis):
    _set(demo_school, 56, deadline=utcnow() + timedelta(hours=30), remind_hours_before=24)
    assert remind_due(demo_school, redis) == 0, "not yet: 30 hours before the deadline"

    _set(demo_school, 56, deadline=utcnow() + timedelta(hours=23))
    assert remind_due(demo_school, redis) == 8
    assert remind_due(demo_school, redis) == 0, "sent once"
    assert _count(demo_school, OutgoingMail, OutgoingMail.kind == "reminder") == 8
    with session_scope(demo_school.database_url) as session:
        assert session.get(Evaluation, 56).reminded_at is not None


def test_no_automatic_reminder_after_the_deadline_or_when_none_was_asked(demo_school, redis):
    _set(demo_school, 56, deadline=utcnow() - timedelta(hours=1), remind_hours_before=24)
    _set(demo_school, 57, deadline=utcnow() + timedelta(hours=1))
    assert remind_due(demo_school, redis) == 0
    assert _count(demo_school, OutgoingMail) == 0


def test_a_deadline_moved_later_brings_the_reminder_and_the_close_back(demo_school, redis):
    client = api_client(demo_school)
    _set(demo_school, 56, deadline=utcnow() + timedelta(hours=1), remind_hours_before=24)
    assert remind_due(demo_school, redis) == 8
    _set(demo_school, 56, deadline=utcnow() - timedelta(minutes=1))
    assert close_due(demo_school, redis) == 1

    later = (utcnow() + timedelta(days=2)).isoformat()
    assert client.patch("/api/v1/evaluations/56", json={"deadline": later}, headers=TEACHER).status_code == 200
    assert close_due(demo_school, redis) == 0, "open again"
    assert remind_due(demo_school, redis) == 0, "the new reminder hours have not begun"
    next_day = utcnow() + timedelta(days=1, hours=1)
    assert remind_due(demo_school, redis, now=next_day) == 8, "reminded again before the new deadline"


def _reminded_by_hand(settings) -> int:
    """The teacher sends reminders from the progress page; how many went."""
    teacher = api_client(settings)
    csrf = sign_in(teacher, "docent@example.com")
    before = _count(settings, OutgoingMail, OutgoingMail.kind == "reminder")
    confirm = teacher.get("/evaluations/56/remind").text
    assert "An automatic reminder goes 24 hours before the close; whoever you remind from then on" in confirm
    assert teacher.post("/evaluations/56/remind", data={"csrf_token": csrf}).status_code == 200
    return _count(settings, OutgoingMail, OutgoingMail.kind == "reminder") - before


def test_a_reminder_sent_by_hand_within_the_reminder_hours_stands_for_the_automatic_one(demo_school, redis):
    _set(demo_school, 56, deadline=utcnow() + timedelta(hours=20), remind_hours_before=24)
    assert _reminded_by_hand(demo_school) == 8
    assert remind_due(demo_school, redis) == 0, "nobody gets a second reminder within the same hours"
    with session_scope(demo_school.database_url) as session:
        assert session.get(Evaluation, 56).reminded_at is not None, "the automatic one is done"


def test_a_reminder_sent_by_hand_before_the_reminder_hours_leaves_the_automatic_one_to_come(demo_school, redis):
    _set(demo_school, 56, deadline=utcnow() + timedelta(days=3), remind_hours_before=24)
    assert _reminded_by_hand(demo_school) == 8
    two_days_on = utcnow() + timedelta(days=2, hours=1)
    assert remind_due(demo_school, redis, now=two_days_on) == 8
