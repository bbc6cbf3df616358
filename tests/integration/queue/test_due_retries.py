"""Due retries that no RQ scheduler queues are queued by the reconciler, never twice."""

from datetime import timedelta

from rq import Queue
from rq.registry import ScheduledJobRegistry
from rq.scheduler import SCHEDULER_KEY_TEMPLATE, RQScheduler
from rq.utils import now, utcformat

from peerdigest.queue import due_retries
from peerdigest.queue.queues import summary_queues
from peerdigest.queue.reconcile import reconcile
from tests.support.api import PREFIX, TEACHER, api_client


def _retry_due(settings, redis, student: int, seconds_ago: float) -> str:
    """A job waiting in RQ's retry schedule since `seconds_ago`, as a transient failure leaves it."""
    client = api_client(settings)
    job_id = client.post(f"{PREFIX}/evaluation/56/student/{student}/queue", headers=TEACHER).json()["job_id"]
    queue = Queue("summaries-normal", connection=redis)
    job = queue.fetch_job(job_id)
    queue.remove(job)
    queue.schedule_job(job, now() - timedelta(seconds=seconds_ago))
    return job_id


def _scheduler_holding(redis, name: str, beat_seconds_ago: float) -> None:
    """An RQ scheduler named `name` that holds every summary queue's lock and last beat `beat_seconds_ago`."""
    for queue in summary_queues(redis):
        redis.set(RQScheduler.get_locking_key(queue.name), name, ex=60)
    redis.hset(SCHEDULER_KEY_TEMPLATE % name, "last_heartbeat", utcformat(now() - timedelta(seconds=beat_seconds_ago)))


def _waiting(redis) -> list[str]:
    return [job_id for queue in summary_queues(redis) for job_id in queue.get_job_ids()]


def test_a_due_retry_no_scheduler_queued_is_queued_by_the_reconciler_as_a_repair(demo_school, redis):
    due = _retry_due(demo_school, redis, 19, seconds_ago=5)
    later = _retry_due(demo_school, redis, 20, seconds_ago=-60)  # due in a minute

    report = reconcile(demo_school, redis)

    assert (report.promoted, report.repairs) == (1, 1)
    assert _waiting(redis) == [due]
    assert ScheduledJobRegistry("summaries-normal", connection=redis).get_job_ids() == [later]
    assert not redis.keys("rq:scheduler-lock:*"), "the locks it took are released"
    assert reconcile(demo_school, redis).promoted == 0


def test_retries_a_live_scheduler_looks_after_are_left_to_it(demo_school, redis):
    _retry_due(demo_school, redis, 19, seconds_ago=5)
    _scheduler_holding(redis, "live", beat_seconds_ago=1)

    assert due_retries.promote(redis, summary_queues(redis)) == []
    assert _waiting(redis) == []
    assert redis.get(RQScheduler.get_locking_key("summaries-normal")) == b"live"


def test_a_scheduler_silent_for_long_loses_its_lock_and_its_due_retries_are_queued(demo_school, redis):
    due = _retry_due(demo_school, redis, 19, seconds_ago=5)
    _scheduler_holding(redis, "hung", beat_seconds_ago=due_retries.SCHEDULER_SILENT_AFTER + 5)

    assert due_retries.promote(redis, summary_queues(redis)) == [due]
    assert _waiting(redis) == [due]
