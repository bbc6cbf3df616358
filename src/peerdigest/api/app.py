"""The API's FastAPI application, built from settings and a queue connection handed in.

The web app puts its pages on it (`web/app.py`); the API never imports the web app."""

from __future__ import annotations

from fastapi import FastAPI
from redis import Redis

from peerdigest.api import docs, guards, openapi, outages, ratelimit, validation
from peerdigest.api.body_limit import BodyLimit
from peerdigest.api.json_guard import JsonGuard
from peerdigest.api.routes import (
    evaluations,
    events,
    exports,
    insights,
    metrics,
    queue,
    review,
    scheduled_jobs,
    summaries,
)
from peerdigest.api.errors import problem
from peerdigest.api.schemas import ValidationProblem
from peerdigest.config import Settings
from peerdigest.domain.auth import check_startup
from peerdigest.ops import metrics as metrics_registry
from peerdigest.queue.connection import configured_url, connect, ensure_binary_safe


def create_app(settings: Settings, redis: Redis | None = None, redis_url: str | None = None) -> FastAPI:
    check_startup(settings)  # e.g. AUTH_MODE=dev outside development: no app at all, whoever builds it
    app = FastAPI(
        title="peerdigest",
        version="0.1.0",
        description="Tactful AI summaries of the peer feedback students give each other. "
        "Summaries are written in the background: queue a job, then follow its status.",
        # Every route but the health checks counts against a rate limit (see api/ratelimit.py), so can answer 429;
        # and a signed-in browser's state-changing requests must carry its form token (api/deps.check_csrf).
        dependencies=guards.GUARDS,
        responses={
            413: problem("The request body is larger than REQUEST_MAX_BYTES"),
            422: {"model": ValidationProblem, "description": "The request does not match the schema"},
            429: problem("Over the rate limit: wait Retry-After seconds"),
        },
        docs_url=None,  # api/docs.py serves /docs and /redoc with local assets instead of a CDN's
        redoc_url=None,
    )
    openapi.install(app)
    app.add_middleware(ratelimit.RateLimitHeaders)
    app.add_middleware(JsonGuard)  # inside BodyLimit: it reads only bodies of an allowed size
    app.add_middleware(BodyLimit, settings=settings)
    outages.install(app)
    validation.install(app)
    docs.install(app)
    app.state.settings = settings
    app.state.redis = ensure_binary_safe(redis) if redis is not None else connect(redis_url or configured_url(settings))
    app.state.rate_limiter = ratelimit.limiter_for(settings, redis_url)
    app.state.metrics = metrics_registry.registry(settings.database_url, app.state.redis)
    app.state.event_streams = events.StreamPlaces(settings)
    app.state.event_looks = events.SharedLooks(settings)
    app.include_router(summaries.router)
    app.include_router(review.router)
    app.include_router(exports.router)
    app.include_router(insights.router)
    app.include_router(evaluations.router)
    app.include_router(scheduled_jobs.router, prefix=scheduled_jobs.PREFIX)
    app.include_router(queue.router, prefix=queue.PREFIX)
    for legacy in (scheduled_jobs, queue):
        app.include_router(legacy.router, prefix=legacy.LEGACY_PREFIX, tags=["legacy paths"], deprecated=True)
    guards.add_health_check(app.router, f"{queue.PREFIX}/health", queue.queue_health, tags=["operations"], **queue.HEALTH)
    guards.add_health_check(app.router, f"{queue.LEGACY_PREFIX}/health", queue.queue_health,
                            tags=["legacy paths", "operations"], deprecated=True, **queue.HEALTH)
    app.include_router(metrics.router)
    app.include_router(events.router)

    async def healthz() -> dict:
        return {"status": "ok"}

    guards.add_health_check(app.router, "/healthz", healthz, tags=["operations"], summary="The API process is up")

    return app
