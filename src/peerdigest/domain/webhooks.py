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
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network
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


NOT_ALLOWED = (
    "This webhook host is not allowed: webhooks go only to hosts that resolve to public unicast addresses "
    "(an operator can allow a host with WEBHOOK_ALLOWED_HOSTS)."
)
# IPv6 forms that carry an IPv4 address a router or the host itself forwards to: NAT64 (well-known and
# local-use prefixes) and IPv4-compatible (::a.b.c.d, deprecated but still routed by some stacks) hold it in
# their last 32 bits; IPv4-mapped, 6to4 and Teredo are read by `ipaddress` itself.
LAST_32_BITS = [ip_network("64:ff9b::/96"), ip_network("64:ff9b:1::/48"), ip_network("::/96")]


def validate_url(url: str, settings: Settings) -> str:
    """`url` when this server may POST webhooks to it; raises `UnsafeWebhookURL` otherwise.

    Only http(s) URLs whose host resolves to public unicast addresses pass, so a
    caller cannot make the server reach into its own network (loopback,
    private, link-local ranges, which hold cloud metadata services at
    169.254.169.254), not even through an IPv6 address that embeds one of those
    (NAT64, 6to4, Teredo, IPv4-mapped or -compatible). Hosts in
    WEBHOOK_ALLOWED_HOSTS pass without that check. A refused host hears only
    "not allowed": never what it resolves to, nor whether it resolves at all,
    which would let a caller map the server's own network by asking.
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
    if not all(is_public(address) for address in _addresses(host, port)):
        raise UnsafeWebhookURL(NOT_ALLOWED)
    return url


def _addresses(host: str, port: int) -> list[IPv4Address | IPv6Address]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise UnsafeWebhookURL(NOT_ALLOWED) from None
    # Every address counts, not just the first: the HTTP client may connect to any of them.
    return [ip_address(info[4][0].split("%", 1)[0]) for info in infos]


def is_public(address: IPv4Address | IPv6Address) -> bool:
    """Whether the address is a public unicast one; an IPv6 address that carries an IPv4 one is judged by that."""
    if isinstance(address, IPv6Address) and (embedded := _embedded_ipv4(address)):
        # Judged by where it leads: a DNS64 resolver gives public hosts 64:ff9b:: addresses, which ipaddress
        # counts as reserved, while 6to4 of 127.0.0.1 counts as global.
        return all(is_public(inner) for inner in embedded)
    if address.is_multicast or not address.is_global or address.is_private or address.is_loopback:
        return False
    if address.is_unspecified or address.is_link_local or address.is_reserved:
        return False
    return True


def _embedded_ipv4(address: IPv6Address) -> list[IPv4Address]:
    embedded = [address.ipv4_mapped, address.sixtofour, *(address.teredo or ())]
    embedded += [IPv4Address(int(address) & 0xFFFFFFFF) for network in LAST_32_BITS if address in network]
    return [inner for inner in embedded if inner is not None]


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
