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
Requests are counted in a moving window, so no burst at a window's edge
doubles a limit: the `limits` library's moving window (its parsing of "10/minute",
its Redis lists of request times), counted and read by one script of ours
in one round trip (`limits` takes two scripts, and runs them blocking, so in
the thread pool; see docs/ARCHITECTURE.md, Decisions). Each response says where the caller stands
(X-RateLimit-Limit, -Remaining, and -Reset as Unix seconds); one over the
limit is a 429 with Retry-After.

The counters live in Redis through an asyncio client made here from a URL
(one per event loop: its connections belong to the loop that opened them),
not through `peerdigest.queue.connection`. That module exists to hand RQ
a binary-safe client tuned for long blocking dequeues (30 s socket timeout,
retries); a limit check runs on every request and must give up within a second
when Redis is away. It stores only its own counters, never RQ's binary job
data, so its client's settings cannot hurt the queue, and keeping the two
apart keeps it that way. When Redis does not answer, requests go through
unlimited (logged): a lost counter must not take the API down with it.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import weakref
from dataclasses import dataclass
from enum import StrEnum

import redis.asyncio
from fastapi import HTTPException, Request, status
from limits import RateLimitItem, parse
from redis.exceptions import RedisError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from peerdigest.config import Settings
from peerdigest.db.models import User
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


# KEYS[1]: a caller's request times in one class, newest first, at most `limit` of them (the moving window of
# `limits`). Counts this request unless the window is full, then reads the window: one round trip for both.
_HIT = """
local now, limit, expiry = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local last_kept = redis.call('lindex', KEYS[1], limit - 1)
local allowed = not (last_kept and tonumber(last_kept) >= now - expiry)
if allowed then
    redis.call('lpush', KEYS[1], ARGV[1])
    redis.call('ltrim', KEYS[1], 0, limit - 1)
    redis.call('expire', KEYS[1], expiry)
end
-- the oldest entry still in the window: the list is sorted, so a binary search
local low, high, oldest = 0, redis.call('llen', KEYS[1]) - 1, nil
while low <= high do
    local mid = math.floor((low + high) / 2)
    local value = tonumber(redis.call('lindex', KEYS[1], mid))
    if value >= now - expiry then
        oldest = mid
        low = mid + 1
    else
        high = mid - 1
    end
end
if oldest == nil then
    return {allowed and 1 or 0, 0, ARGV[1]}
end
return {allowed and 1 or 0, oldest + 1, redis.call('lindex', KEYS[1], oldest)}
"""


class RateLimiter:
    def __init__(self, settings: Settings, redis_url: str | None = None):
        self.url = settings.rate_limit_storage_url or redis_url or settings.redis_url or DEFAULT_URL
        self.items = {
            Limit.queue: parse(settings.rate_limit_queue),
            Limit.batch: parse(settings.rate_limit_batch),
            Limit.status: parse(settings.rate_limit_status),
            Limit.default: parse(settings.rate_limit_default),
        }
        self._scripts: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, redis.asyncio.client.AsyncScript] = (
            weakref.WeakKeyDictionary()
        )

    def _script(self) -> redis.asyncio.client.AsyncScript:
        loop = asyncio.get_running_loop()
        if loop not in self._scripts:
            client = redis.asyncio.Redis.from_url(self.url, socket_connect_timeout=1, socket_timeout=1)
            self._scripts[loop] = client.register_script(_HIT)  # EVALSHA; loads the script when Redis lacks it
        return self._scripts[loop]

    async def hit(self, kind: Limit, who: str) -> Verdict | None:
        """Count one request of `who`; None when the counters are out of reach."""
        item = self.items[kind]
        now = time.time()
        try:
            allowed, count, oldest = await self._script()(
                keys=[f"{KEY_PREFIX}:{item.key_for(kind, who)}"], args=[repr(now), item.amount, item.get_expiry()]
            )
        except (RedisError, OSError) as exc:
            log.warning("rate limits not applied: their Redis does not answer (%s)", exc)
            return None
        return Verdict(bool(allowed), item, item.amount - count, float(oldest) + item.get_expiry())


async def enforce(request: Request, user: User | None) -> None:
    """Count the request (of `user`, by its address when None), refuse it with 429 when over its limit."""
    limiter: RateLimiter | None = request.app.state.rate_limiter
    if limiter is None:
        return
    kind = declared(request.scope.get("route"))
    if kind == Limit.unlimited:
        return
    who = f"user:{user.id}" if user is not None else f"ip:{request.client.host if request.client else 'unknown'}"
    verdict = await limiter.hit(kind, who)
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

