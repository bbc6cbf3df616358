"""Sending the outbox: an SMTP server that is away is tried again and nothing is lost, a refusal is final,
and mail whose job Redis lost is queued again from the database."""

from datetime import timedelta

import pytest
from rq.job import Job
from sqlalchemy import update

from peerdigest.db.models import Evaluation, OutgoingMail, utcnow
from peerdigest.db.session import session_scope
from peerdigest.domain import mail
from peerdigest.ops.doctor import Level, diagnose
from peerdigest.queue.mail import MailNotSent, announce, attempt, job_id, queue_lost
from peerdigest.queue.queues import mail_queue
from tests.support.smtp import mail_server  # noqa: F401 (fixture)


def _reminders(settings) -> list[int]:
    with session_scope(settings.database_url) as session:
        return [m.id for m in mail.reminders(session, settings, session.get(Evaluation, 56))]


def test_a_mail_server_that_is_away_is_tried_again_and_the_mail_goes_once_it_is_back(demo_school, mail_server):
    settings = demo_school.model_copy(update={"smtp_url": mail_server.url})
    first, *_ = _reminders(settings)
    mail_server.stop()
    with pytest.raises(MailNotSent):  # RQ's Retry schedules the next attempt
        attempt(settings, first)
    with session_scope(settings.database_url) as session:
        row = session.get(OutgoingMail, first)
        assert (row.sent_at, row.attempts) == (None, 1) and "Connection refused" in row.error

    mail_server.start()
    assert attempt(settings, first) is True
    assert attempt(settings, first) is False, "a second job of the same mail sends nothing"
    with session_scope(settings.database_url) as session:
        row = session.get(OutgoingMail, first)
        assert row.sent_at is not None and (row.attempts, row.error) == (2, None)
        assert len(mail_server.to(row.to_address)) == 1


def test_a_refused_recipient_is_not_tried_again(demo_school, mail_server, redis):
    settings = demo_school.model_copy(update={"smtp_url": mail_server.url})
    first, *_ = _reminders(settings)
    mail_server.refuse = True
    assert attempt(settings, first) is False
    with session_scope(settings.database_url) as session:
        row = session.get(OutgoingMail, first)
        assert row.sent_at is None and row.attempts == settings.mail_max_attempts and "550" in row.error
        session.execute(update(OutgoingMail).values(created_at=utcnow() - timedelta(minutes=5)))
    assert queue_lost(settings, redis) == 7, "the other seven, not the refused one"


def test_unsent_mail_whose_job_redis_lost_is_queued_again_once(demo_school, mail_server, redis):
    settings = demo_school.model_copy(update={"smtp_url": mail_server.url})
    ids = _reminders(settings)
    with session_scope(settings.database_url) as session:
        mails = [session.get(OutgoingMail, mail_id) for mail_id in ids]
        assert announce(redis, settings, mails) == len(ids) == 8  # every demo student is partway
    assert queue_lost(settings, redis) == 0, "just written: on its way to Redis, or there"

    redis.flushdb()  # Redis lost everything
    with session_scope(settings.database_url) as session:
        session.execute(update(OutgoingMail).values(created_at=utcnow() - timedelta(minutes=5)))
    assert queue_lost(settings, redis) == 8
    assert queue_lost(settings, redis) == 0, "queued already"
    assert sorted(mail_queue(redis).job_ids) == sorted(job_id(mail_id) for mail_id in ids)
    assert Job.fetch(job_id(ids[0]), connection=redis).retries_left == settings.mail_max_attempts - 1


def test_without_a_mail_server_nothing_is_queued(demo_school, redis):
    ids = _reminders(demo_school)
    with session_scope(demo_school.database_url) as session:
        assert announce(redis, demo_school, [session.get(OutgoingMail, i) for i in ids]) == 0
        session.execute(update(OutgoingMail).values(created_at=utcnow() - timedelta(minutes=5)))
    assert queue_lost(demo_school, redis) == 0
    assert mail_queue(redis).count == 0


def test_doctor_says_whether_mail_goes_out_and_where_its_links_lead(demo_school, mail_server):
    (unset,) = diagnose(demo_school, ("mail",))
    assert unset.level == Level.ok and "send reminders and sign-in links by hand" in unset.message
    answering = demo_school.model_copy(update={"smtp_url": mail_server.url, "public_url": "https://pd.school.example"})
    (ok,) = diagnose(answering, ("mail",))
    assert ok.level == Level.ok and "links start with https://pd.school.example" in ok.message
    mail_server.stop()
    (away,) = diagnose(answering, ("mail",))
    assert away.level == Level.warn and away.fix == "start the mail server, or fix SMTP_URL"
