"""GET /metrics: Prometheus' text format, for a scraper.

The numbers cover every school (jobs by status, queue depths), so they are not
for anyone who asks: a scraper sends METRICS_TOKEN as a bearer token, or, with
no token configured, scrapes from the API's own machine (a loopback address).
"""

from __future__ import annotations

import hmac
from ipaddress import ip_address

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from peerdigest.api.deps import SettingsDep
from peerdigest.api.errors import problem

router = APIRouter(tags=["operations"])


def _from_loopback(request: Request) -> bool:
    try:
        return ip_address(request.client.host if request.client else "").is_loopback
    except ValueError:
        return False


def scraper(request: Request, settings: SettingsDep) -> None:
    """Let the request through if it carries METRICS_TOKEN, or, without one configured, comes from loopback."""
    if settings.metrics_token:
        sent = request.headers.get("Authorization", "")
        if not hmac.compare_digest(sent.encode(), f"Bearer {settings.metrics_token}".encode()):
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED, "Send the METRICS_TOKEN as 'Authorization: Bearer <token>'.",
                headers={"WWW-Authenticate": "Bearer"},
            )
    elif not _from_loopback(request):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "Metrics answer only the API's own machine; set METRICS_TOKEN to let a scraper elsewhere in.",
        )


@router.get(
    "/metrics",
    response_class=Response,
    dependencies=[Depends(scraper)],
    responses={
        200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text exposition format"},
        401: problem("METRICS_TOKEN is set and the request does not carry it"),
        403: problem("No METRICS_TOKEN is set and the request does not come from loopback"),
    },
    summary="Jobs by status, queue depths, job duration and LLM latency histograms, retries, webhook deliveries",
)
def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.metrics), media_type=CONTENT_TYPE_LATEST)
