"""The yardstick of scenario 5: a FastAPI endpoint that does nothing but put a job id on an RQ queue.

Run under uvicorn by the bench with the same Redis as the real API (REDIS_URL),
so the difference between the two is what our queue endpoint adds: signing in,
the row in the database, the checks.
"""

from __future__ import annotations

import os
import secrets

from fastapi import FastAPI
from rq import Queue

from peerdigest.queue.connection import connect

app = FastAPI()
queue = Queue("bench-bare", connection=connect(os.environ["REDIS_URL"]))


@app.get("/healthz")
def healthz() -> dict:
    return {"status": "ok"}


@app.post("/enqueue", status_code=202)
def enqueue() -> dict:
    job_id = f"bare-{secrets.token_hex(6)}"
    queue.enqueue("os.getpid", job_id=job_id, result_ttl=60)
    return {"job_id": job_id}
