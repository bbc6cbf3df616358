"""Send the outbox: each `outgoing_mail` row handed to SMTP_URL by a job of its own, retried by RQ, recorded on the row.

A mail is a job on the `mail` queue (workers take it after every summary and
webhook queue) whose RQ id is `mail-<row id>`, so the same mail is one job
however often it is queued. RQ's `Retry` repeats an attempt that failed for a
reason that may pass (the server is down, busy, answers 4xx) with a doubling
delay; a refusal (5xx: no such mailbox, not allowed) is final. Every attempt
counts on the row (`attempts`, `error`), and `sent_at` marks it sent.

What RQ lacks, and we add: RQ keeps its jobs in Redis only, so a mail whose job
Redis lost would never go. The database is the source of truth: the
scheduler's mail pass (`queue_lost`) queues again every unsent row with
attempts left that has no job on Redis. Before each attempt the row is read,
so a mail already sent is never sent again by a second job.

Without SMTP_URL nothing is queued: the teacher's mail page lists the rows and
their links to send by hand.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import unquote, urlsplit

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Retry
from rq.job import Job

from peerdigest.config import Settings, load_settings
from peerdigest.db.models import OutgoingMail, utcnow
from peerdigest.db.session import session_scope
from peerdigest.domain.mail import lost
from peerdigest.queue.queues import MAIL_TASK, mail_queue

log = logging.getLogger(__name__)

SMTP_TIMEOUT = 30  # seconds one conversation with the mail server may take
# A row is committed before its job is queued; one younger than this may be on its way to Redis still.
QUEUE_GRACE = timedelta(seconds=60)


class MailNotSent(Exception):
    """An attempt failed for a reason that may pass; raising it lets RQ's Retry schedule the next one."""


def job_id(mail_id: int) -> str:
    return f"mail-{mail_id}"


def retry_delays(settings: Settings) -> list[int]:
    """Seconds before each repeated attempt: the configured delay, doubling."""
    return [settings.mail_retry_delay * 2**n for n in range(settings.mail_max_attempts - 1)]


def announce(redis: Redis, settings: Settings, mails: list[OutgoingMail]) -> int:
    """Queue the sending of committed mail rows; how many were queued (none without SMTP_URL or Redis)."""
    if not settings.smtp_url or not mails:
        return 0
    delays = retry_delays(settings)
    queue = mail_queue(redis)
    data = [
        Queue.prepare_data(
            MAIL_TASK,
            (mail.id,),
            job_id=job_id(mail.id),
            retry=Retry(max=len(delays), interval=delays) if delays else None,
            timeout=SMTP_TIMEOUT * 2,
            result_ttl=24 * 3600,
            failure_ttl=7 * 24 * 3600,
            description=f"{mail.kind} mail {mail.id}",
        )
        for mail in mails
    ]
    try:
        with redis.pipeline() as pipe:
            queue.enqueue_many(data, pipeline=pipe)
            pipe.execute()
    except RedisError as exc:
        log.warning("%d mail(s) written but not queued (Redis: %s); the scheduler queues them later", len(mails), exc)
        return 0
    return len(mails)


def queue_lost(settings: Settings, redis: Redis, now: datetime | None = None) -> int:
    """Queue again the unsent mail whose job Redis no longer has (lost, flushed, expired); how many."""
    if not settings.smtp_url:
        return 0
    with session_scope(settings.database_url) as session:
        candidates = lost(session, settings, now or utcnow(), QUEUE_GRACE)
        missing = [mail_id for mail_id in candidates if not Job.exists(job_id(mail_id), connection=redis)]
        mails = [session.get(OutgoingMail, mail_id) for mail_id in missing]
        queued = announce(redis, settings, mails)
    if queued:
        log.warning("%d unsent mail(s) had no job on Redis; queued again", queued)
    return queued


def send(mail_id: int) -> bool:
    """The RQ task: `attempt` with the process's settings."""
    return attempt(load_settings(), mail_id)


def attempt(settings: Settings, mail_id: int) -> bool:
    """One attempt to hand a mail to SMTP_URL; raises `MailNotSent` so RQ retries.

    True once the server accepted it; False when there is nothing (more) to do.
    """
    if not settings.smtp_url:
        log.warning("mail %d: SMTP_URL is not set; left for the teacher to send by hand", mail_id)
        return False
    with session_scope(settings.database_url) as session:
        mail = session.get(OutgoingMail, mail_id)
        if mail is None or mail.sent_at is not None:
            return False
        message = _message(settings, mail)
    error, final = _hand_over(settings.smtp_url, message)
    with session_scope(settings.database_url) as session:
        mail = session.get(OutgoingMail, mail_id)
        if mail is None:  # deleted with its school while it was being sent
            return error is None
        mail.attempts += 1
        mail.error = error
        if error is None:
            mail.sent_at = utcnow()
        elif final:
            mail.attempts = max(mail.attempts, settings.mail_max_attempts)  # a refusal uses up every attempt
        attempts = mail.attempts
    if error is None:
        log.info("mail %d: sent (attempt %d)", mail_id, attempts)
        return True
    if final or attempts >= settings.mail_max_attempts:
        log.warning("mail %d: not sent and not tried again (attempt %d): %s", mail_id, attempts, error)
        return False
    log.warning("mail %d: attempt %d failed: %s", mail_id, attempts, error)
    raise MailNotSent(error)


def _message(settings: Settings, mail: OutgoingMail) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = mail.to_address
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=False)
    # One id per row: a receiving server that sees a retried mail twice can tell it is the same.
    message["Message-ID"] = make_msgid(idstring=f"peerdigest-mail-{mail.id}", domain=settings.mail_from.rpartition("@")[2] or None)
    message.set_content(mail.body)
    return message


def _hand_over(url: str, message: EmailMessage) -> tuple[str | None, bool]:
    """Give the message to the server once: (error or None, whether the error rules out another attempt)."""
    try:
        with _connect(url) as smtp:
            smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _text in exc.recipients.values()]
        return f"recipient refused: {exc.recipients}"[:500], all(code >= 500 for code in codes)
    except smtplib.SMTPResponseException as exc:
        return f"{exc.smtp_code} {exc.smtp_error!r}"[:500], exc.smtp_code >= 500
    except (smtplib.SMTPException, OSError) as exc:
        return f"{type(exc).__name__}: {exc}"[:500], False
    return None, False


def server_problem(settings: Settings) -> str | None:
    """Why SMTP_URL cannot take mail now (unreachable, TLS, sign-in refused), or None when it answers."""
    try:
        with _connect(settings.smtp_url) as smtp:
            smtp.noop()
    except (smtplib.SMTPException, OSError) as exc:
        return f"{type(exc).__name__}: {exc}"[:300]
    return None


def _connect(url: str) -> smtplib.SMTP:
    """A conversation with the server of SMTP_URL, encrypted and signed in as the URL says."""
    parts = urlsplit(url)
    if parts.scheme == "smtps":
        smtp = smtplib.SMTP_SSL(parts.hostname, parts.port or 465, timeout=SMTP_TIMEOUT,
                                context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(parts.hostname, parts.port or (587 if parts.scheme == "smtp+starttls" else 25),
                            timeout=SMTP_TIMEOUT)
    try:
        if parts.scheme == "smtp+starttls":
            smtp.starttls(context=ssl.create_default_context())
        if parts.username:
            smtp.login(unquote(parts.username), unquote(parts.password or ""))
    except BaseException:
        smtp.close()
        raise
    return smtp
