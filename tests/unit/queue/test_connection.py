"""The queue connection is binary-safe by construction: the incident cannot happen again."""

import pytest
from redis import Redis
from rq import Queue
from rq.job import Job

from peerdigest.config import Settings
from peerdigest.queue.connection import (
    DecodingConnectionError,
    configured_url,
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


def test_with_sentinels_the_url_names_them_the_master_and_redis_urls_password_and_database():
    settings = Settings(
        _env_file=None, redis_url="redis://:s3cr%40t@ignored:6379/2",
        redis_sentinels="10.0.0.1:26379, 10.0.0.2:26379", redis_sentinel_master="queues",
    )
    url = configured_url(settings)
    assert url == "redis+sentinel://:s3cr%40t@10.0.0.1:26379,10.0.0.2:26379/queues?db=2"
    assert configured_url(settings.model_copy(update={"redis_url": url})) == url, "handed down to children as it is"

    client = connect(url)  # made, not opened: the Sentinels need not run for this
    pool = client.connection_pool
    assert (pool.service_name, pool.connection_kwargs["db"], pool.connection_kwargs["password"]) == ("queues", 2, "s3cr@t")
    assert pool.connection_kwargs["decode_responses"] is False, "binary-safe through Sentinel too"
    assert [(s.connection_pool.connection_kwargs["host"], s.connection_pool.connection_kwargs["port"])
            for s in pool.sentinel_manager.sentinels] == [("10.0.0.1", 26379), ("10.0.0.2", 26379)]


def test_sentinel_addresses_that_are_not_host_and_port_are_refused_at_start():
    with pytest.raises(ValueError, match="REDIS_SENTINELS lists host:port pairs"):
        Settings(_env_file=None, redis_sentinels="10.0.0.1")
