"""Every queue and task name on Redis, and the RQ queues built from them.

These names are stored in Redis with each queued job (RQ keeps the task's dotted
path in the job hash), so renaming one strands the jobs already waiting: change
them only together with a drained queue.
"""

from __future__ import annotations

from redis import Redis
from rq import Queue

from peerdigest.db.models import Priority
from peerdigest.queue.connection import ensure_binary_safe

QUEUE_NAMES: dict[str, str] = {
    Priority.high: "summaries-high",
    Priority.normal: "summaries-normal",
    Priority.low: "summaries-low",
}
WEBHOOK_QUEUE_NAME = "webhooks"
MAIL_QUEUE_NAME = "mail"

SUMMARY_TASK = "peerdigest.queue.tasks.generate_summary"
WEBHOOK_TASK = "peerdigest.queue.deliveries.deliver"
MAIL_TASK = "peerdigest.queue.mail.send"
# RQ calls this when a job is stopped on request (a cancel), so it hands back its LLM slot at once.
STOPPED_CALLBACK = "peerdigest.queue.llm_slots.release_stopped"


def summary_queues(redis: Redis) -> list[Queue]:
    """The summary queues, highest priority first: the order workers listen in."""
    ensure_binary_safe(redis)
    return [Queue(name, connection=redis) for name in QUEUE_NAMES.values()]


def queue_name(priority: str) -> str:
    """The queue a job of `priority` waits in (an unknown priority waits with the normal ones)."""
    return QUEUE_NAMES.get(priority, QUEUE_NAMES[Priority.normal])


def webhook_queue(redis: Redis) -> Queue:
    return Queue(WEBHOOK_QUEUE_NAME, connection=ensure_binary_safe(redis))


def mail_queue(redis: Redis) -> Queue:
    return Queue(MAIL_QUEUE_NAME, connection=ensure_binary_safe(redis))


def all_queues(redis: Redis) -> list[Queue]:
    """Every queue a worker listens to, in its order: a summary never waits for a webhook or a mail."""
    return [*summary_queues(redis), webhook_queue(redis), mail_queue(redis)]
