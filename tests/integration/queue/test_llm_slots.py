"""The cap on LLM calls in flight: a semaphore on the real Redis, shared by every holder."""

import threading
import time

from peerdigest.queue.llm_slots import HARD_KILL_GRACE, KEY, free, held, llm_slot
from tests.conftest import make_settings


def _llm_settings(tmp_path, redis_url, cap: int):
    return make_settings("sqlite://", redis_url, tmp_path, llm_base_url="http://127.0.0.1:9/v1", llm_max_concurrency=cap)


def test_no_more_holders_than_the_cap_at_once(redis, redis_url, tmp_path):
    settings = _llm_settings(tmp_path, redis_url, cap=2)
    lock = threading.Lock()
    inside = {"now": 0, "most": 0}

    def call(holder: str) -> None:
        with llm_slot(redis, settings, holder):
            with lock:
                inside["now"] += 1
                inside["most"] = max(inside["most"], inside["now"])
            time.sleep(0.05)
            with lock:
                inside["now"] -= 1

    threads = [threading.Thread(target=call, args=(f"job-{n}",)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert inside["most"] == 2
    assert redis.zcard(KEY) == 0, "every slot is handed back"


def test_a_slot_whose_lease_ended_is_free_again(redis, redis_url, tmp_path):
    settings = _llm_settings(tmp_path, redis_url, cap=1)
    redis.zadd(KEY, {"job-of-a-killed-horse": time.time() - 1})  # what a holder that died leaves behind
    with llm_slot(redis, settings, "next-job"):
        assert [m.decode() for m in redis.zrange(KEY, 0, -1)] == ["next-job"]


def test_a_job_run_again_renews_its_own_slot_instead_of_waiting_for_it(redis, redis_url, tmp_path):
    settings = _llm_settings(tmp_path, redis_url, cap=1)
    redis.zadd(KEY, {"job-1": time.time() + 600})  # its first run died holding the only slot
    with llm_slot(redis, settings, "job-1"):
        assert redis.zcard(KEY) == 1


def test_without_an_llm_endpoint_nothing_is_held(redis, redis_url, tmp_path):
    settings = make_settings("sqlite://", redis_url, tmp_path, llm_max_concurrency=1)
    redis.zadd(KEY, {"someone-else": time.time() + 600})
    with llm_slot(redis, settings, "builtin-job"):
        assert redis.zcard(KEY) == 1


def test_held_slots_name_their_job_and_how_long_each_has_been_held(redis, redis_url, tmp_path):
    settings = _llm_settings(tmp_path, redis_url, cap=2)
    lease = settings.job_timeout + HARD_KILL_GRACE
    redis.zadd(KEY, {"job-1": time.time() + lease - 30, "job-2": time.time() + lease - 5})

    slots = held(redis, settings)

    assert [slot.job_id for slot in slots] == ["job-1", "job-2"], "the longest held first"
    assert 29 <= slots[0].held_for <= 40 and lease - 40 <= slots[0].lease_left <= lease - 29


def test_a_slot_is_freed_only_as_it_was_seen_not_once_its_job_took_it_again(redis, redis_url, tmp_path):
    settings = _llm_settings(tmp_path, redis_url, cap=1)
    redis.zadd(KEY, {"job-1": time.time() + 600})
    (seen,) = held(redis, settings)
    with llm_slot(redis, settings, "job-1"):  # its next run renews the slot after the look
        assert not free(redis, seen), "a renewed slot belongs to a live run"
        assert redis.zcard(KEY) == 1

    redis.zadd(KEY, {"job-1": time.time() + 600})
    (seen,) = held(redis, settings)
    assert free(redis, seen)
    assert redis.zcard(KEY) == 0
