"""Tell a client's URL that its job ended: checked, signed, queued, retried, every attempt recorded.

RQ 3 has `rq.webhook.Webhook`, but it is not enough here: it sends from inside
the worker that ran the job (a slow endpoint holds that worker), signs nothing,
and gives up after the first failure with only a log line. So a delivery is a
job of its own on the `webhooks` queue (workers take it after every summary
queue), its body is signed with HMAC-SHA256, RQ's `Retry` repeats it with
back-off, and each attempt is a row in `webhook_delivery`.

The body is rebuilt from the job's row at every attempt. It depends only on
what the row recorded when the job ended (`completed_at` is the timestamp), so
every attempt of one delivery sends the same bytes, and Redis holds only ids.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import socket
from ipaddress import IPv4Address, IPv6Address, ip_address
from urllib.parse import urlsplit

import httpx
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Retry
from sqlalchemy import func, select

from peerdigest.config import Settings, load_settings
from peerdigest.db.models import JobStatus, SummaryJob, WebhookDelivery, utcnow
from peerdigest.db.session import session_scope
from peerdigest.queue.connection import ensure_binary_safe
from peerdigest.queue.jobs import find

log = logging.getLogger(__name__)

QUEUE_NAME = "webhooks"
TASK = "peerdigest.domain.webhooks.deliver"
EVENTS = {JobStatus.completed: "job.completed", JobStatus.failed: "job.failed"}
SIGNATURE_HEADER = "X-Peerdigest-Signature"
DELIVERY_HEADER = "X-Peerdigest-Delivery"
EVENT_HEADER = "X-Peerdigest-Event"
MAX_URL_LENGTH = 2000  # the length of summary_job.webhook_url


class UnsafeWebhookURL(ValueError):
    """A webhook URL this server will not call; the message says why, in words for the caller."""


class DeliveryFailed(Exception):
    """An attempt did not reach a 2xx answer; raising it lets RQ's Retry schedule the next one."""


# --- Which URLs may be called -----------------------------------------------


def validate_url(url: str, settings: Settings) -> str:
    """`url` when this server may POST webhooks to it; raises `UnsafeWebhookURL` otherwise.

    Only http(s) URLs whose host resolves to public addresses pass, so a caller
    cannot make the server reach into its own network (loopback, private,
    link-local ranges, which hold cloud metadata services at 169.254.169.254).
    Hosts in WEBHOOK_ALLOWED_HOSTS pass without that check.
    """
    if not settings.webhook_secret:
        raise UnsafeWebhookURL("This server sends no webhooks: its operator has not set WEBHOOK_SECRET to sign them.")
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeWebhookURL(f"The webhook URL is longer than {MAX_URL_LENGTH} characters.")
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UnsafeWebhookURL(f"The webhook URL {url!r} has an invalid port.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeWebhookURL(f"The webhook URL must be an http:// or https:// URL with a host, not {url!r}.")
    host = parts.hostname.lower()
    if host in settings.webhook_allowed_host_set:
        return url
    for address in _addresses(host, port):
        kind = _non_public_kind(address)
        if kind is not None:
            raise UnsafeWebhookURL(
                f"The webhook host {host!r} resolves to {address}, a {kind} address; webhooks go to public "
                "addresses only (an operator can allow this host with WEBHOOK_ALLOWED_HOSTS)."
            )
    return url


def _addresses(host: str, port: int) -> list[IPv4Address | IPv6Address]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise UnsafeWebhookURL(f"The webhook host {host!r} does not resolve to any address.") from None
    # Every address counts, not just the first: the HTTP client may connect to any of them.
    return [ip_address(info[4][0].split("%", 1)[0]) for info in infos]


def _non_public_kind(address: IPv4Address | IPv6Address) -> str | None:
    """What kind of non-public address this is, or None for a public one."""
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 reaches 127.0.0.1
    if address.is_loopback or address.is_unspecified:  # 0.0.0.0 and :: reach this very host
        return "loopback"
    if address.is_link_local:
        return "link-local (cloud metadata)"
    if address.is_private:
        return "private"
    if not address.is_global:
        return "reserved"
    return None


# --- What is sent -------------------------------------------------------------


def payload(job: SummaryJob) -> dict:
    """The webhook of a job that ended: the event, when it happened, and its outcome."""
    data = {
        "job_id": job.job_id,
        "status": job.status,
        "student_id": job.student_id,
        "evaluation_id": job.evaluation_id,
    }
    if job.status == JobStatus.completed:
        data["result"] = job.result
    else:
        data["error"] = job.error
    return {"event": EVENTS[JobStatus(job.status)], "timestamp": job.completed_at.isoformat(), "data": data}


def body(job: SummaryJob) -> bytes:
    return json.dumps(payload(job), ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def signature(body: bytes, secret: str) -> str:
    """The X-Peerdigest-Signature of `body`: receivers recompute it over the exact bytes they got."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# --- Queuing and delivering ----------------------------------------------------


def webhook_queue(redis: Redis) -> Queue:
    return Queue(QUEUE_NAME, connection=ensure_binary_safe(redis))


def retry_delays(settings: Settings) -> list[int]:
    """Seconds before each repeated attempt: the configured delay, doubling."""
    return [settings.webhook_retry_delay * 2**n for n in range(settings.webhook_max_attempts - 1)]


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
            TASK,
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
