"""What every request passes before its route runs (rate limit, CSRF check), and the health checks that pass nothing.

The guards are the app's dependencies, so a new route or page cannot forget
them. Health checks (`/healthz`, `.../queue/health`) are answered without
them: a load balancer calls them, often with whatever credential its operator
configured, and its check must not sign anyone in (a database query, so a
database outage would take every API process out of service) nor count
against a limit (see api/ratelimit.py).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.routing import APIRoute

from peerdigest.api.deps import Identity, SettingsDep, check_csrf
from peerdigest.api.ratelimit import Limit, enforce, limit
from peerdigest.domain.auth import NotAuthenticated


async def guard(request: Request, identity: Identity, settings: SettingsDep) -> None:
    """Count the request against its rate limit (429 over it), then check a signed-in browser's form token (403).

    One dependency for both, so FastAPI solves the sign-in it shares with the route's own access checks once
    here rather than once per guard (it walks a cached dependency's sub-tree again wherever it is declared).
    """
    await enforce(request, None if isinstance(identity, NotAuthenticated) else identity)
    await check_csrf(request, identity, settings)


GUARDS = [Depends(guard)]


class HealthCheck(APIRoute):
    """The route class of a health check: the app's guards left out, `unlimited` in the OpenAPI document."""

    def __init__(self, path: str, endpoint: Any, *, dependencies: Any = None, openapi_extra: dict | None = None, **kwargs):
        super().__init__(
            path,
            endpoint,
            dependencies=[d for d in dependencies or () if d not in GUARDS],
            openapi_extra={**(openapi_extra or {}), **limit(Limit.unlimited)},
            **kwargs,
        )


def add_health_check(router: APIRouter, path: str, endpoint: Any, **kwargs: Any) -> None:
    """Add a health check (GET) to the app's own router.

    Never to a router the app includes: FastAPI builds an included router's
    routes with the app's dependencies itself, whatever their class.
    """
    router.add_api_route(path, endpoint, methods=["GET"], route_class_override=HealthCheck, **kwargs)
