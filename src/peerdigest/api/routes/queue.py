"""/api/v1/queue: where the jobs are (stats, teachers and admins) and whether they are being run (health)."""

from __future__ import annotations

from fastapi import APIRouter, status
from fastapi.responses import JSONResponse
from redis.exceptions import RedisError

from peerdigest.api.deps import (
    CurrentUser,
    RedisDep,
    SessionDep,
    SettingsDep,
    require_staff,
)
from peerdigest.api.schemas import Problem, QueueHealthOut, QueueStatsOut
from peerdigest.queue import health
from peerdigest.queue.maintenance import queue_stats

router = APIRouter(prefix="/api/v1/queue", tags=["operations"])


@router.get(
    "/stats",
    response_model=QueueStatsOut,
    responses={401: {"model": Problem}, 403: {"model": Problem, "description": "Teachers and admins only"}},
    summary="Jobs by status (database), each queue's depth (Redis) and the workers",
)
def stats(user: CurrentUser, session: SessionDep, redis: RedisDep) -> QueueStatsOut:
    require_staff(user)
    jobs = health.job_counts(session)
    try:
        on_redis = queue_stats(redis)
    except RedisError:
        return QueueStatsOut(jobs=jobs, redis_reachable=False, queues=[], workers=[])
    return QueueStatsOut(jobs=jobs, redis_reachable=True, **on_redis)


@router.get(
    "/health",
    response_model=QueueHealthOut,
    responses={503: {"model": QueueHealthOut, "description": "Redis does not answer, or no worker was seen lately"}},
    summary="Whether queued jobs are being run: for load balancers and monitoring (no sign-in needed)",
)
def queue_health(redis: RedisDep, settings: SettingsDep) -> QueueHealthOut | JSONResponse:
    checked = health.check(redis, settings)
    body = QueueHealthOut(
        status="ok" if checked.healthy else "unhealthy",
        detail=" ".join(checked.problems) or None,
        redis_reachable=checked.redis_reachable,
        workers=checked.workers,
    )
    if checked.healthy:
        return body
    return JSONResponse(body.model_dump(mode="json"), status_code=status.HTTP_503_SERVICE_UNAVAILABLE)
