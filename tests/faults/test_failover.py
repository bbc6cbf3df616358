"""Redis Sentinel fails the master over mid-batch: API, workers and scheduler follow it, every job ends once."""

import pytest

from peerdigest.queue.connection import configured_url
from peerdigest.testing.fake_llm import Reply, reply_with_sentences
from tests.faults.harness import Sentinels, wait_for

pytestmark = pytest.mark.slow


@pytest.fixture
def sentinels(scenario):
    group = Sentinels(scenario.redis_server, scenario.directory / "sentinels").start()
    scenario.configure(redis_sentinels=group.addresses, redis_sentinel_master=group.name)
    # Everything from here on, the test's own clients included, finds the master through the Sentinels.
    scenario.configure(redis_url=configured_url(scenario.settings))
    yield group
    group.stop()


def test_sentinel_fails_the_master_over_mid_batch(scenario, sentinels, llm, record):
    llm.default = lambda request: Reply(reply_with_sentences(request).text, delay=0.3)  # a batch that takes a while
    first_master = sentinels.master_port()
    job_ids = scenario.queue([(56, s) for s in range(19, 27)])
    scenario.worker()
    scenario.scheduler()
    wait_for(lambda: sum(job.status == "completed" for job in scenario.rows(job_ids).values()) >= 2,
             "a few jobs to complete", scenario)

    scenario.redis_server.kill()  # the master dies; the Sentinels promote the replica
    scenario.fault()
    wait_for(lambda: sentinels.master_port() != first_master, "the Sentinels to fail over", scenario)
    later = scenario.queue([(57, s) for s in range(19, 23)])  # the API finds the new master too
    recovery = scenario.settle(job_ids + later, timeout=120)

    rows = scenario.rows(job_ids + later)
    assert {job.status for job in rows.values()} == {"completed"}
    assert sentinels.master_port() == sentinels.replica_port
    record(scenario.judge(job_ids + later, recovery))
