"""Request limits per user (per client address when the request proves no user), on Redis.

Every API request counts against one of four limits, the class its route
declares with `openapi_extra=limit(Limit.…)`: queuing a summary (`.../queue`,
`.../regenerate`: RATE_LIMIT_QUEUE), a batch (`.../batch-queue`:
RATE_LIMIT_BATCH), following jobs (`GET .../status`, `.../jobs`, `.../events`:
RATE_LIMIT_STATUS), or, for a route that declares none, RATE_LIMIT_DEFAULT.
Health checks (`/healthz`, `.../queue/health`) declare `unlimited`: a load
balancer asks anonymously, often from an address it shares, and one busy
anonymous client there must not make it take the API out of service.
The class is in the OpenAPI document too (`x-rate-limit`). Following jobs has a bucket of its own, generous enough
for a page that polls a class's jobs every two seconds, so polling neither is
refused nor uses up what the same teacher needs for everything else.
The `limits` library counts them in a moving window, so no burst at a window's
edge doubles a limit. Each response says where the caller stands
(X-RateLimit-Limit, -Remaining, and -Reset as Unix seconds); one over the
limit is a 429 with Retry-After.

The counters live in Redis through the client `limits` makes itself from a
URL, not through `peerdigest.queue.connection`. That module exists to hand RQ
a binary-safe client tuned for long blocking dequeues (30 s socket timeout,
retries); a limit check runs on every request and must give up within a second
when Redis is away. It stores only its own counters, never RQ's binary job
data, so its client's settings cannot hurt the queue, and keeping the two
apart keeps it that way. When Redis does not answer, requests go through
unlimited (logged): a lost counter must not take the API down with it.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from enum import StrEnum

from fastapi import Depends, HTTPException, Request, status
from limits import RateLimitItem, parse
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from peerdigest.api.deps import OptionalUser
from peerdigest.config import Settings
from peerdigest.queue.connection import DEFAULT_URL

log = logging.getLogger(__name__)

KEY_PREFIX = "peerdigest-ratelimit"
STATE_KEY = "rate_limit_headers"


class Limit(StrEnum):
    """The rate-limit classes. A new one is a member here and its setting in `RateLimiter.items`."""

    queue = "queue"
    batch = "batch"
    status = "status"
    default = "default"
    unlimited = "unlimited"  # health checks only


def limit(kind: Limit) -> dict:
    """A route's `openapi_extra` that declares which limit its requests count against."""
    return {"x-rate-limit": kind.value}


def declared(route: object) -> Limit:
    """The limit a route declared; `default` for one that declares none (or no route: a 404)."""
    return Limit((getattr(route, "openapi_extra", None) or {}).get("x-rate-limit", Limit.default))


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    item: RateLimitItem
    remaining: int
    reset_at: float  # Unix seconds

    @property
    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.item.amount),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(math.ceil(self.reset_at)),
        }

    @property
    def retry_after(self) -> int:
        return max(1, math.ceil(self.reset_at - time.time()))


class RateLimiter:
    def __init__(self, settings: Settings, redis_url: str | None = None):
        url = settings.rate_limit_storage_url or redis_url or settings.redis_url or DEFAULT_URL
        storage = storage_from_string(
            url, key_prefix=KEY_PREFIX, wrap_exceptions=True, socket_connect_timeout=1, socket_timeout=1
        )
        self.strategy = MovingWindowRateLimiter(storage)
        self.items = {
            Limit.queue: parse(settings.rate_limit_queue),
            Limit.batch: parse(settings.rate_limit_batch),
            Limit.status: parse(settings.rate_limit_status),
            Limit.default: parse(settings.rate_limit_default),
        }

    def hit(self, kind: Limit, who: str) -> Verdict | None:
        """Count one request of `who`; None when the counters are out of reach."""
        item = self.items[kind]
        try:
            allowed = self.strategy.hit(item, kind, who)
            stats = self.strategy.get_window_stats(item, kind, who)
        except StorageError as exc:
            log.warning("rate limits not applied: their Redis does not answer (%s)", exc)
            return None
        return Verdict(allowed, item, stats.remaining, stats.reset_time)


def enforce(request: Request, user: OptionalUser) -> None:
    """The app-wide dependency: count the request, refuse it with 429 when over its limit."""
    limiter: RateLimiter | None = request.app.state.rate_limiter
    if limiter is None:
        return
    kind = declared(request.scope.get("route"))
    if kind == Limit.unlimited:
        return
    who = f"user:{user.id}" if user is not None else f"ip:{request.client.host if request.client else 'unknown'}"
    verdict = limiter.hit(kind, who)
    if verdict is None:
        return
    setattr(request.state, STATE_KEY, verdict.headers)
    if not verdict.allowed:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"Too many requests: at most {verdict.item} for this kind of request. "
            f"Try again in {verdict.retry_after} seconds.",
            headers={"Retry-After": str(verdict.retry_after)},
        )


RateLimited = Depends(enforce)


class RateLimitHeaders:
    """Adds the X-RateLimit-* headers `enforce` worked out to whatever response the request gets.

    A middleware rather than the dependency's own Response, because headers set
    there are lost when the route answers with an error (404, 409, 422 ...).
    Plain ASGI, so streamed responses pass through untouched.
    """

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            headers = scope.get("state", {}).get(STATE_KEY)
            if message["type"] == "http.response.start" and headers:
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(k.lower().encode(), v.encode()) for k, v in headers.items() if k.lower().encode() not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def limiter_for(settings: Settings, redis_url: str | None) -> RateLimiter | None:
    return RateLimiter(settings, redis_url) if settings.rate_limit_enabled else None

