"""The one place a Redis connection for RQ is made or accepted.

RQ stores job data as binary (zlib-compressed, serialized) values. A client
created with `decode_responses=True` tries to decode those bytes as UTF-8 and
every worker dies on its first job with
`UnicodeDecodeError: 'utf-8' codec can't decode byte 0x9c`. This module makes
that mistake impossible: it only creates binary-safe clients, and it refuses
any client handed to it that decodes responses.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, unquote, urlsplit

from redis import Redis
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry
from redis.sentinel import Sentinel, SentinelConnectionPool

from peerdigest.config import Settings, redacted

DEFAULT_URL = "redis://127.0.0.1:6379/0"
SENTINEL_SCHEME = "redis+sentinel://"

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
    """A binary-safe Redis client for RQ, tuned to notice and survive lost connections.

    `url` is a Redis URL, or a `redis+sentinel://` one (see `configured_url`): then the
    client asks the Sentinels where the master is, and asks again after every lost
    connection, so it follows a failover.
    """
    options = dict(
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
    if url.startswith(SENTINEL_SCHEME):
        client = _master_of(url, options)
    else:
        client = Redis.from_url(url, **options)
    return ensure_binary_safe(client)


def configured_url(settings: Settings) -> str:
    """The Redis a service uses: REDIS_URL, else localhost:6379; through Sentinel when REDIS_SENTINELS is set.

    No service starts a Redis of its own, whatever EMBEDDED_REDIS says: only the
    command the user ran (`demo`, `run`, `up`) decides that, once, and hands its
    children the resulting REDIS_URL.

    With REDIS_SENTINELS, the URL is `redis+sentinel://[:password@]host:port,…/master?db=N`
    (the form the rate limiter's `limits` library reads too): the Sentinels, the name
    of the master (REDIS_SENTINEL_MASTER), and the password and database number of
    REDIS_URL when it is set (its host is then not used).
    """
    url = settings.redis_url or DEFAULT_URL
    if not settings.redis_sentinels or url.startswith(SENTINEL_SCHEME):
        return url
    master = urlsplit(url)
    auth = f":{quote(unquote(master.password), safe='')}@" if master.password else ""
    sentinels = ",".join(part.strip() for part in settings.redis_sentinels.split(",") if part.strip())
    db = master.path.strip("/") or "0"
    return f"{SENTINEL_SCHEME}{auth}{sentinels}/{settings.redis_sentinel_master}" + (f"?db={db}" if db != "0" else "")


def _master_of(url: str, options: dict) -> Redis:
    parts = urlsplit(url)
    sentinels = []
    for address in parts.netloc.rpartition("@")[2].split(","):
        host, _, port = address.rpartition(":")
        sentinels.append((host, int(port)))
    password = unquote(parts.password) if parts.password else None
    db = int(dict(parse_qsl(parts.query)).get("db", 0))
    # The Sentinels themselves answer fast or not at all; each one that does not is skipped.
    sentinel = Sentinel(sentinels, sentinel_kwargs={"socket_connect_timeout": 1, "socket_timeout": 1}, **options)
    return sentinel.master_for(parts.path.strip("/"), db=db, password=password)


def is_sentinel(client: Redis) -> bool:
    return isinstance(client.connection_pool, SentinelConnectionPool)


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
