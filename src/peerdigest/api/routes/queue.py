"""/api/v1/queue: where the jobs are (stats, teachers and admins) and whether they are being run (health)."""

from __future__ import annotations

from fastapi import APIRouter, status
from fastapi.responses import JSONResponse
from redis.exceptions import RedisError

from peerdigest.api.deps import RedisDep, SessionDep, SettingsDep, StaffUser
from peerdigest.api.errors import problem
from peerdigest.api.schemas import QueueHealthOut, QueueStatsOut
from peerdigest.db.models import utcnow
from peerdigest.domain.auth import sees_installation
from peerdigest.queue import health
from peerdigest.queue.connection import answers
from peerdigest.queue.maintenance import queue_stats

router = APIRouter(tags=["operations"])
PREFIX = "/api/v1/queue"
# Where the origin app served the same routes; its existing clients still call them there.
LEGACY_PREFIX = "/api/v1/feedback-summaries/queue"


@router.get(
    "/stats",
    response_model=QueueStatsOut,
    responses={401: problem("No or unknown user"), 403: problem("Teachers and admins only")},
    summary="Jobs by status (database), each queue's depth (Redis) and the workers",
    description="Teachers and admins see the jobs of their own school (`scope: school`); the queues and workers, "
    "which serve every school, only the installation's administrators (INSTALLATION_ADMINS, `scope: installation`).",
)
def stats(user: StaffUser, session: SessionDep, redis: RedisDep, settings: SettingsDep) -> QueueStatsOut:
    if not sees_installation(user, settings):
        return QueueStatsOut(
            scope="school", jobs=health.job_counts(session, user.school_id), redis_reachable=answers(redis),
            queues=[], workers=[],
        )
    jobs = health.job_counts(session)
    try:
        on_redis = queue_stats(redis)
    except RedisError:
        return QueueStatsOut(scope="installation", jobs=jobs, redis_reachable=False, queues=[], workers=[])
    return QueueStatsOut(scope="installation", jobs=jobs, redis_reachable=True, **on_redis)


def queue_health(redis: RedisDep, settings: SettingsDep) -> QueueHealthOut | JSONResponse:
    checked = health.check(redis, settings)
    now = utcnow()
    body = QueueHealthOut(
        status="ok" if checked.healthy else "unhealthy",
        detail=" ".join(checked.problems) or None,
        redis_reachable=checked.redis_reachable,
        workers_alive=sum(health.is_alive(worker, settings, now) for worker in checked.workers),
        workers=[],
    )
    if checked.healthy:
        return body
    return JSONResponse(body.model_dump(mode="json"), status_code=status.HTTP_503_SERVICE_UNAVAILABLE)


# Added by api/app.py with `guards.add_health_check`, not on `router`: a health check passes no guard.
HEALTH = dict(
    response_model=QueueHealthOut,
    responses={503: {"model": QueueHealthOut, "description": "Redis does not answer, or no worker was seen lately"}},
    summary="Whether queued jobs are being run: for load balancers and monitoring (no sign-in needed)",
    description="Healthy or not, why not, and how many workers are alive; never which workers or what they run "
    "(job ids name evaluations and students): that is in /queue/stats for the installation's administrators.",
)
