"""The queue is healthy when Redis answers and a worker's heartbeat is recent enough."""

from datetime import timedelta

from rq import Worker

from peerdigest.config import Settings
from peerdigest.db.models import utcnow
from peerdigest.queue.enqueue import summary_queues
from peerdigest.queue.health import check


def test_only_a_recent_heartbeat_makes_the_queue_healthy(redis):
    settings = Settings(_env_file=None, worker_heartbeat_max_age=60)
    assert "none is registered" in check(redis, settings).problems[0]

    worker = Worker(summary_queues(redis), connection=redis, name="seen-at-birth")
    worker.register_birth()  # RQ records a heartbeat as a worker starts
    try:
        now = utcnow()
        fresh = check(redis, settings, now=now)
        assert fresh.healthy and [w["name"] for w in fresh.workers] == ["seen-at-birth"]

        later = check(redis, settings, now=now + timedelta(seconds=61))
        assert not later.healthy
        assert "No worker has sent a heartbeat in the last 60 s" in later.problems[0]
        assert "last heartbeat was at" in later.problems[0]
    finally:
        worker.register_death()
