"""Queue and send the webhook of a job that ended: signed, retried, every attempt recorded.

RQ 3 has `rq.webhook.Webhook`, but it is not enough here: it sends from inside
the worker that ran the job (a slow endpoint holds that worker), signs nothing,
and gives up after the first failure with only a log line. So a delivery is a
job of its own on the `webhooks` queue (workers take it after every summary
queue), its body is signed with HMAC-SHA256, RQ's `Retry` repeats it with
back-off, and each attempt is a row in `webhook_delivery`. Redis holds only ids.
"""

from __future__ import annotations

import logging
import secrets

import httpx
from redis import Redis
from redis.exceptions import RedisError
from rq import Retry
from sqlalchemy import func, select

from peerdigest.config import Settings, load_settings
from peerdigest.db.models import JobStatus, SummaryJob, WebhookDelivery, utcnow
from peerdigest.db.session import session_scope
from peerdigest.domain.webhooks import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    EVENTS,
    SIGNATURE_HEADER,
    UnsafeWebhookURL,
    body,
    retry_delays,
    signature,
    validate_url,
)
from peerdigest.queue.jobs import find
from peerdigest.queue.queues import WEBHOOK_TASK, webhook_queue

log = logging.getLogger(__name__)


class DeliveryFailed(Exception):
    """An attempt did not reach a 2xx answer; raising it lets RQ's Retry schedule the next one."""


def announce(redis: Redis, settings: Settings, job: SummaryJob) -> str | None:
    """Queue the webhook of a job that has just ended; the delivery id, or None when there is none to send.

    Call it after the job's end is committed: the delivery reads the row.
    """
    if not job.webhook_url or job.status not in EVENTS:
        return None
    delivery_id = secrets.token_hex(16)
    delays = retry_delays(settings)
    try:
        webhook_queue(redis).enqueue(
            WEBHOOK_TASK,
            job.job_id,
            delivery_id,
            job_id=f"webhook-{delivery_id}",
            retry=Retry(max=len(delays), interval=delays) if delays else None,
            job_timeout=int(settings.webhook_timeout) + 30,
            result_ttl=24 * 3600,
            failure_ttl=7 * 24 * 3600,
            description=f"webhook {EVENTS[JobStatus(job.status)]} of job {job.job_id}",
        )
    except RedisError as exc:
        log.warning("job %s: webhook not queued (Redis: %s)", job.job_id, exc)
        return None
    log.info("job %s: webhook %s queued", job.job_id, delivery_id)
    return delivery_id


def deliver(job_id: str, delivery_id: str) -> int | None:
    """One attempt to POST a job's webhook (the RQ task); raises `DeliveryFailed` so RQ retries.

    Returns the receiver's status code, or None when there is nothing (more) to send.
    """
    settings = load_settings()
    with session_scope(settings.database_url) as session:
        job = find(session, job_id)
        if job is None or job.status not in EVENTS or not job.webhook_url:
            log.warning("job %s: webhook %s has nothing to send (job gone or not ended)", job_id, delivery_id)
            return None
        url, event, content = job.webhook_url, EVENTS[JobStatus(job.status)], body(job)
        attempt = 1 + session.scalar(
            select(func.count()).select_from(WebhookDelivery).where(WebhookDelivery.delivery_id == delivery_id)
        )
        summary_job_id = job.id

    status_code, error, final = _post(settings, url, event, delivery_id, content)
    with session_scope(settings.database_url) as session:
        session.add(
            WebhookDelivery(
                summary_job_id=summary_job_id,
                delivery_id=delivery_id,
                event=event,
                attempt=attempt,
                status_code=status_code,
                error=error,
                created_at=utcnow(),
            )
        )
    if error is None:
        log.info("job %s: webhook %s delivered (attempt %d, HTTP %d)", job_id, delivery_id, attempt, status_code)
        return status_code
    if final:
        log.warning("job %s: webhook %s not sent and not retried: %s", job_id, delivery_id, error)
        return None
    log.warning("job %s: webhook %s attempt %d failed: %s", job_id, delivery_id, attempt, error)
    raise DeliveryFailed(error)


def _post(settings: Settings, url: str, event: str, delivery_id: str, content: bytes) -> tuple[int | None, str | None, bool]:
    """POST once: (status code, error or None, whether the error rules out any retry)."""
    try:
        # Checked again now, not only when the job was queued: the host's DNS may point elsewhere by now.
        validate_url(url, settings)
    except UnsafeWebhookURL as exc:
        return None, str(exc), True
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "peerdigest-webhooks",
        SIGNATURE_HEADER: signature(content, settings.webhook_secret),
        DELIVERY_HEADER: delivery_id,
        EVENT_HEADER: event,
    }
    try:
        # Redirects are not followed: a redirect could lead to an address the check above refuses.
        response = httpx.post(url, content=content, headers=headers, timeout=settings.webhook_timeout)
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500], False
    if response.is_success:
        return response.status_code, None, False
    return response.status_code, f"HTTP {response.status_code}", False
