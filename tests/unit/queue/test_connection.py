"""The queue connection is binary-safe by construction: the incident cannot happen again."""

import pytest
from redis import Redis
from rq import Queue
from rq.job import Job

from peerdigest.config import Settings
from peerdigest.queue.connection import (
    DecodingConnectionError,
    connect,
    ensure_binary_safe,
)
from peerdigest.queue.queues import summary_queues
from peerdigest.queue.worker import build_worker


def test_connect_makes_a_binary_safe_client_with_timeouts_and_keepalive(redis_url):
    client = connect(redis_url)
    kwargs = client.connection_pool.connection_kwargs
    assert kwargs["decode_responses"] is False
    assert kwargs["socket_keepalive"] is True
    assert kwargs["socket_connect_timeout"] == 2
    assert kwargs["health_check_interval"] == 30
    assert client.ping() is True


def test_a_decoding_connection_is_refused_with_the_documented_message(redis_url):
    decoding = Redis.from_url(redis_url, decode_responses=True)
    with pytest.raises(DecodingConnectionError) as refused:
        ensure_binary_safe(decoding)
    message = str(refused.value)
    assert "decode_responses=True" in message
    assert "UnicodeDecodeError" in message
    assert "peerdigest.queue.connection.connect(url)" in message


@pytest.mark.parametrize(
    "use", [summary_queues, lambda redis: build_worker(redis, Settings(_env_file=None))], ids=["queues", "worker"]
)
def test_queues_and_workers_refuse_a_decoding_connection(redis_url, use):
    with pytest.raises(DecodingConnectionError):
        use(Redis.from_url(redis_url, decode_responses=True))


def test_a_decoding_redis_url_is_refused_too(redis_url):
    with pytest.raises(DecodingConnectionError):
        connect(f"{redis_url}?decode_responses=True")


def test_job_data_written_by_rq_is_read_back_by_the_queue_connection(redis_url):
    writer = Redis.from_url(redis_url)  # RQ's own default: a plain binary client
    job = Queue("summaries-normal", connection=writer).enqueue(
        "peerdigest.queue.tasks.generate_summary", "summary-1-2-abc", 1, 2, job_id="summary-1-2-abc"
    )
    raw = writer.hget(job.key, "data")
    assert raw[:1] == b"\x78", "RQ stores job data zlib-compressed (0x78 header)"

    with pytest.raises(UnicodeDecodeError):  # what the incident's decoding client did
        Redis.from_url(redis_url, decode_responses=True).hget(job.key, "data")

    fetched = Job.fetch(job.id, connection=connect(redis_url))
    assert fetched.func_name == "peerdigest.queue.tasks.generate_summary"
    assert fetched.args == ("summary-1-2-abc", 1, 2)
