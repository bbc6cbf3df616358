"""The one place a Redis connection for RQ is made or accepted.

RQ stores job data as binary (zlib-compressed, serialized) values. A client
created with `decode_responses=True` tries to decode those bytes as UTF-8 and
every worker dies on its first job with
`UnicodeDecodeError: 'utf-8' codec can't decode byte 0x9c`. This module makes
that mistake impossible: it only creates binary-safe clients, and it refuses
any client handed to it that decodes responses.
"""

from __future__ import annotations

from redis import Redis
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

from peerdigest.config import Settings, redacted

DEFAULT_URL = "redis://127.0.0.1:6379/0"

DECODING_CONNECTION_MESSAGE = (
    "This Redis connection decodes responses (decode_responses=True), but RQ stores job data "
    "as binary, zlib-compressed bytes: a worker using it crashes with "
    "\"UnicodeDecodeError: 'utf-8' codec can't decode byte 0x9c\" and jobs stay queued forever. "
    "Fix: create the queue connection with peerdigest.queue.connection.connect(url) "
    "(or pass decode_responses=False), and keep any decoding client for your own string keys only."
)


class DecodingConnectionError(ValueError):
    """A Redis client that decodes responses was offered for RQ."""


def connect(url: str) -> Redis:
    """A binary-safe Redis client for RQ, tuned to notice and survive lost connections."""
    client = Redis.from_url(
        url,
        decode_responses=False,
        socket_keepalive=True,
        # A dead or hung Redis must cost an API request seconds, not minutes: the request
        # is already recorded and the reconciler queues it once Redis is back.
        socket_connect_timeout=2,
        # RQ's worker raises this for its blocking dequeue (rq.worker.BaseWorker._set_connection).
        socket_timeout=10,
        health_check_interval=30,
        # Only a connection that could not be made is retried: a command that timed out may
        # have run, and running an enqueue twice would put the job on its queue twice.
        retry=Retry(ExponentialBackoff(cap=1, base=0.1), retries=2, supported_errors=(RedisConnectionError,)),
        client_name="peerdigest",
    )
    return ensure_binary_safe(client)


def configured_url(settings: Settings) -> str:
    """The Redis a service uses: REDIS_URL, else localhost:6379.

    No service starts a Redis of its own, whatever EMBEDDED_REDIS says: only the
    command the user ran (`demo`, `run`, `up`) decides that, once, and hands its
    children the resulting REDIS_URL.
    """
    return settings.redis_url or DEFAULT_URL


def ensure_binary_safe(client: Redis) -> Redis:
    """Return `client` unchanged if RQ can use it; refuse it otherwise."""
    kwargs = client.connection_pool.connection_kwargs
    if kwargs.get("decode_responses"):
        raise DecodingConnectionError(DECODING_CONNECTION_MESSAGE)
    return client


def describe(url: str) -> str:
    """The URL without its password, for logs and error messages."""
    return redacted(url)


def answers(client: Redis) -> bool:
    """Whether the server behind `client` answers a PING right now."""
    try:
        return bool(client.ping())
    except (RedisConnectionError, RedisTimeoutError, OSError):
        return False
