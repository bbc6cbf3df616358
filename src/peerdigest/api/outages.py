"""What the API answers while the database or Redis is down: a clear 503, never a 500 with a traceback.

Queuing a summary needs only the database (the row is the promise; Redis
catches up through the reconciler), and status reads never touch Redis. So a
503 means the database is away, or Redis for the few routes that cannot work
without it. Either way it is an outage, not a bug: the client is told to try
again, with Retry-After, and the log gets one line instead of a traceback.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

log = logging.getLogger(__name__)

RETRY_AFTER = "30"
DATABASE_DOWN = "The database is unavailable right now, so nothing was done or recorded. Try again in a minute."
REDIS_DOWN = "The job queue (Redis) is unavailable right now. Try again in a minute."


def _unavailable(detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
                        headers={"Retry-After": RETRY_AFTER})


async def _database_down(request: Request, exc: Exception) -> JSONResponse:
    log.error("%s %s: database unavailable: %s", request.method, request.url.path, str(exc).splitlines()[0])
    return _unavailable(DATABASE_DOWN)


async def _redis_down(request: Request, exc: Exception) -> JSONResponse:
    log.error("%s %s: Redis unavailable: %s", request.method, request.url.path, exc)
    return _unavailable(REDIS_DOWN)


def install(app: FastAPI) -> None:
    # Only errors of reaching the database: a failing statement (IntegrityError, ProgrammingError)
    # is a bug, and stays a 500.
    for error in (OperationalError, InterfaceError, PoolTimeoutError):
        app.add_exception_handler(error, _database_down)
    for error in (RedisConnectionError, RedisTimeoutError):
        app.add_exception_handler(error, _redis_down)
