"""Look at and empty the summary queues; only ever Redis, never the database of record."""

from __future__ import annotations

import socket

import psutil
from redis import Redis
from rq import Worker
from rq.job import Job
from rq.registry import (
    CanceledJobRegistry,
    DeferredJobRegistry,
    FailedJobRegistry,
    FinishedJobRegistry,
    ScheduledJobRegistry,
    StartedJobRegistry,
)

from peerdigest.queue import quarantine
from peerdigest.queue.queues import all_queues, summary_queues

REGISTRIES = {
    "started": StartedJobRegistry,
    "scheduled": ScheduledJobRegistry,
    "deferred": DeferredJobRegistry,
    "failed": FailedJobRegistry,
    "finished": FinishedJobRegistry,
    "canceled": CanceledJobRegistry,
}


def queue_stats(redis: Redis) -> dict:
    """Depth of each summary queue (and of the webhook queue) and its registries, every worker on them,
    and how many queue entries that were not job ids sit in the quarantine."""
    queues = all_queues(redis)
    rows = []
    for queue in queues:
        row = {"name": queue.name, "queued": queue.count}
        for label, registry in REGISTRIES.items():
            row[label] = registry(queue=queue).count
        rows.append(row)
    return {"queues": rows, "workers": workers(redis), "quarantined": quarantine.count(redis)}


def workers(redis: Redis) -> list[dict]:
    """Every worker RQ has registered on the summary or webhook queues, alive or not (see `health.live_workers`)."""
    names = {queue.name for queue in all_queues(redis)}
    found = []
    for worker in Worker.all(connection=redis):
        if not set(worker.queue_names()) & names:
            continue
        found.append(
            {
                "name": worker.name,
                "state": worker.get_state(),
                "current_job": worker.get_current_job_id(),
                "last_heartbeat": worker.last_heartbeat.isoformat() if worker.last_heartbeat else None,
                "successful_jobs": worker.successful_job_count,
                "failed_jobs": worker.failed_job_count,
                "host": worker.hostname,
                "pid": worker.pid,
                **memory(worker),
            }
        )
    return found


def memory(worker: Worker) -> dict[str, int | None]:
    """A worker's memory in MiB when it runs on this machine (RQ records its host and pid), else None:
    `memory_mib` resident, and `own_memory_mib`, the pages no other process shares, summed over the worker
    and its children (work horse, RQ scheduler): what this worker costs on top of its siblings."""
    unknown = {"memory_mib": None, "own_memory_mib": None}
    if worker.hostname != socket.gethostname() or not worker.pid:
        return unknown
    try:
        process = psutil.Process(worker.pid)
        own = sum(p.memory_full_info().uss for p in [process, *process.children(recursive=True)])
        return {"memory_mib": round(process.memory_info().rss / 2**20), "own_memory_mib": round(own / 2**20)}
    except psutil.Error:
        return unknown


def clear_queues(redis: Redis, flush_db: bool = False) -> int:
    """Remove every job of the summary queues and registries; returns how many were removed."""
    job_ids: set[str] = set()
    quarantine.sweep(redis, summary_queues(redis))  # what is not a job id cannot be listed as one
    for queue in summary_queues(redis):
        job_ids.update(queue.get_job_ids())
        for registry in REGISTRIES.values():
            job_ids.update(registry(queue=queue).get_job_ids())
        queue.empty()
        for registry in REGISTRIES.values():
            reg = registry(queue=queue)
            for job_id in reg.get_job_ids():
                reg.remove(job_id)
    for job_id in job_ids:
        redis.delete(Job.key_for(job_id))
    if flush_db:
        redis.flushdb()
    return len(job_ids)
