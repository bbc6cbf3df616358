"""What a webhook is: which URLs may receive one, the body it carries, and its signature.

A job that ended tells its client's URL; the body is rebuilt from the job's row
at every attempt. It depends only on what the row recorded when the job ended
(`completed_at` is the timestamp), so every attempt of one delivery sends the
same bytes. Queuing and sending a delivery is `queue.deliveries`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
from ipaddress import IPv4Address, IPv6Address, ip_address
from urllib.parse import urlsplit

from peerdigest.config import Settings
from peerdigest.db.models import JobStatus, SummaryJob

EVENTS = {JobStatus.completed: "job.completed", JobStatus.failed: "job.failed"}
SIGNATURE_HEADER = "X-Peerdigest-Signature"
DELIVERY_HEADER = "X-Peerdigest-Delivery"
EVENT_HEADER = "X-Peerdigest-Event"
MAX_URL_LENGTH = 2000  # the length of summary_job.webhook_url


class UnsafeWebhookURL(ValueError):
    """A webhook URL this server will not call; the message says why, in words for the caller."""


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
        data["error"] = job.error_message
    return {"event": EVENTS[JobStatus(job.status)], "timestamp": job.completed_at.isoformat(), "data": data}


def body(job: SummaryJob) -> bytes:
    return json.dumps(payload(job), ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def signature(body: bytes, secret: str) -> str:
    """The X-Peerdigest-Signature of `body`: receivers recompute it over the exact bytes they got."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# --- How often ----------------------------------------------------------------


def retry_delays(settings: Settings) -> list[int]:
    """Seconds before each repeated attempt: the configured delay, doubling."""
    return [settings.webhook_retry_delay * 2**n for n in range(settings.webhook_max_attempts - 1)]
