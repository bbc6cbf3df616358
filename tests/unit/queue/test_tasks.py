"""Which failures a job retries, and how long it waits before each retry."""

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError, OperationalError

from peerdigest.config import Settings
from peerdigest.domain.feedback import EvaluationNotFound
from peerdigest.queue.tasks import Attempt, is_transient, retry_delay
from peerdigest.summarize import TransientSummaryError


def _settings(**values) -> Settings:
    return Settings(_env_file=None, **values)


def test_the_delay_doubles_from_the_base_up_to_the_cap():
    settings = _settings(retry_base_delay=120, retry_max_delay=600)
    assert [retry_delay(settings, attempt) for attempt in range(1, 6)] == [120, 240, 480, 600, 600]


def test_only_the_attempt_after_the_last_retry_is_final():
    assert [Attempt(number, max_retries=2).final for number in (1, 2, 3)] == [False, False, True]
    assert Attempt(1, max_retries=0).final


def _raised(statement: str, url: str) -> Exception:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            for part in statement.split(";"):
                conn.execute(text(part))
    except Exception as exc:
        return exc
    finally:
        engine.dispose()
    raise AssertionError("the statement did not fail")


def test_a_refused_database_connection_is_transient():
    exc = _raised("SELECT 1", "postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=2")
    assert isinstance(exc, OperationalError)
    assert is_transient(exc)


def test_llm_trouble_is_transient_but_a_violated_constraint_or_a_deleted_evaluation_is_not():
    assert is_transient(TransientSummaryError("HTTP 503"))
    duplicate = _raised("CREATE TABLE t (x INTEGER UNIQUE); INSERT INTO t VALUES (1); INSERT INTO t VALUES (1)", "sqlite://")
    assert isinstance(duplicate, IntegrityError)
    assert not is_transient(duplicate)
    assert not is_transient(EvaluationNotFound(56))



def test_redis_out_of_reach_is_transient_but_a_redis_answer_refusing_a_command_is_not():
    assert is_transient(RedisConnectionError("Error 111 connecting to 127.0.0.1:6395"))
    assert is_transient(RedisTimeoutError("Timeout reading from socket"))
    assert not is_transient(ResponseError("WRONGTYPE Operation against a key holding the wrong kind of value"))
