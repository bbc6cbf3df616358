"""API clients for tests: in-process on the real database and Redis."""

from __future__ import annotations

from fastapi.testclient import TestClient

from peerdigest.web.app import create_app
from peerdigest.config import Settings
from peerdigest.queue.connection import connect

TEACHER = {"X-User-Email": "docent@example.com"}
STUDENT_19 = {"X-User-Email": "jan@example.com"}
PREFIX = "/api/v1/feedback-summaries"


def api_client(settings: Settings, **options) -> TestClient:
    """`options` go to TestClient, e.g. `client=("10.0.0.5", 50000)` to call from that address.

    The client reads English, as a browser set to English does (`Accept-Language: en`); a test
    of the Dutch interface sends `Accept-Language: nl` or signs in a user whose language is Dutch.
    """
    options["headers"] = {"Accept-Language": "en", **options.get("headers", {})}
    return TestClient(create_app(settings, redis=connect(settings.redis_url)), **options)
