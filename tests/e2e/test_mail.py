"""Mail end to end, through real worker processes and a real SMTP server: a summary released on completion
reaches its student, and a reminder written while the mail server was down goes once it is back."""

from datetime import timedelta

import pytest
from rq.job import Job
from rq.registry import ScheduledJobRegistry
from sqlalchemy import select

from peerdigest.db.models import Evaluation, OutgoingMail, Release, utcnow
from peerdigest.db.session import session_scope
from peerdigest.queue.cron import remind_due
from peerdigest.queue.mail import queue_lost
from peerdigest.queue.queues import mail_queue
from tests.conftest import run_cli
from tests.support.api import PREFIX, TEACHER, api_client
from tests.support.smtp import mail_server  # noqa: F401 (fixture)


@pytest.mark.slow
def test_a_summary_released_on_completion_is_mailed_to_its_student_by_the_worker(process_demo_school, mail_server):
    settings = process_demo_school.model_copy(update={"smtp_url": mail_server.url})
    with session_scope(settings.database_url) as session:
        session.get(Evaluation, 57).release = Release.automatic
    client = api_client(settings)
    assert client.post(f"{PREFIX}/evaluation/57/student/19/queue", headers=TEACHER).status_code == 202
    assert run_cli(settings, "worker", "--burst").returncode == 0  # the summary, then its mail

    (message,) = mail_server.to("jan@example.com")
    assert "Science fair: peer review" in message["Subject"]
    assert "/sign-in/link/" in message.get_content()
    with session_scope(settings.database_url) as session:
        (row,) = session.scalars(select(OutgoingMail)).all()
        assert (row.kind, row.attempts) == ("released", 1) and row.sent_at is not None


@pytest.mark.slow
def test_mail_written_while_the_server_was_down_is_sent_once_it_is_back(process_demo_school, mail_server, redis):
    settings = process_demo_school.model_copy(update={"smtp_url": mail_server.url})
    with session_scope(settings.database_url) as session:
        evaluation = session.get(Evaluation, 56)
        evaluation.remind_hours_before, evaluation.deadline = 24, utcnow() + timedelta(hours=1)
    mail_server.stop()
    assert remind_due(settings, redis) == 8
    assert run_cli(settings, "worker", "--burst").returncode == 0  # the first attempts fail: the server is away
    with session_scope(settings.database_url) as session:
        rows = session.scalars(select(OutgoingMail)).all()
        assert [(row.sent_at, row.attempts) for row in rows] == [(None, 1)] * 8
    waiting = ScheduledJobRegistry(queue=mail_queue(redis))
    assert len(waiting) == 8, "RQ holds each retry until its delay has passed"

    for job_id in waiting.get_job_ids():  # the retry delay passes
        waiting.schedule(Job.fetch(job_id, connection=redis), utcnow())
    mail_server.start()
    assert run_cli(settings, "worker", "--burst").returncode == 0
    assert len(mail_server.messages) == 8 and len({m["To"] for m in mail_server.messages}) == 8
    with session_scope(settings.database_url) as session:
        assert all(row.sent_at is not None and row.attempts == 2 for row in session.scalars(select(OutgoingMail)))
    assert queue_lost(settings, redis) == 0
