"""Two reconcilers at once repair each difference once: no job is queued twice."""

import re

import pytest

from peerdigest.queue.enqueue import summary_queues

pytestmark = pytest.mark.slow


def test_two_reconcilers_at_once(scenario, record):
    job_ids = scenario.queue([(56, s) for s in range(19, 27)])
    scenario.redis.flushdb()
    scenario.fault()

    first, second = scenario.recover(), scenario.recover()
    assert [first.wait(60), second.wait(60)] == [0, 0], scenario.tail()

    requeued = [int(re.search(r"requeued\D+(\d+)", log.read_text()).group(1)) for log in scenario.logs]
    assert sorted(requeued) == [0, 8], "one pass repaired all eight; the other, taking its turn, found nothing left"
    waiting = [job_id for queue in summary_queues(scenario.redis) for job_id in queue.get_job_ids()]
    assert sorted(waiting) == sorted(job_ids), "each job is on its queue exactly once"

    scenario.worker()
    recovery = scenario.settle(job_ids)
    assert {job.attempts for job in scenario.rows(job_ids).values()} == {1}
    record(scenario.judge(job_ids, recovery))
