"""The FastAPI application, built from settings and a queue connection handed in."""

from __future__ import annotations

from fastapi import FastAPI
from redis import Redis

from peerdigest.api.routes import summaries
from peerdigest.config import Settings
from peerdigest.queue.connection import connect, ensure_binary_safe


def create_app(settings: Settings, redis: Redis | None = None, redis_url: str | None = None) -> FastAPI:
    app = FastAPI(
        title="peerdigest",
        version="0.1.0",
        description="Tactful AI summaries of the peer feedback students give each other. "
        "Summaries are written in the background: queue a job, then follow its status.",
    )
    app.state.settings = settings
    app.state.redis = ensure_binary_safe(redis) if redis is not None else connect(redis_url or settings.redis_url)
    app.include_router(summaries.router)

    @app.get("/healthz", tags=["operations"], summary="The API process is up")
    def healthz() -> dict:
        return {"status": "ok"}

    return app
