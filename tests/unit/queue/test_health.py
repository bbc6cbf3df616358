"""The queue is healthy when Redis answers and a worker's heartbeat is recent enough."""

from datetime import timedelta

from rq import Worker

from peerdigest.config import Settings
from peerdigest.db.models import utcnow
from peerdigest.queue.health import check, live_workers
from peerdigest.queue.maintenance import workers as registered_workers
from peerdigest.queue.queues import summary_queues


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


def test_a_worker_killed_hard_stays_registered_but_is_not_alive(redis):
    settings = Settings(_env_file=None, worker_heartbeat_max_age=60)
    worker = Worker(summary_queues(redis), connection=redis, name="killed")
    worker.register_birth()  # and then SIGKILL: no death is ever registered
    try:
        now = utcnow()
        assert [w["name"] for w in live_workers(redis, settings, now=now)] == ["killed"]

        later = now + timedelta(seconds=61)
        assert [w["name"] for w in registered_workers(redis)] == ["killed"], "RQ still lists it"
        assert live_workers(redis, settings, now=later) == []
    finally:
        worker.register_death()
