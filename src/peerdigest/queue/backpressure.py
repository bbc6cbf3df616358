"""When the LLM endpoint says it is overloaded, every worker holds off together.

An inference server that is full answers 429 or 503 (Ollama's "server busy",
vLLM's full queue), usually with `Retry-After`. Treated as an ordinary failure,
each job would spend one of its attempts and sit out RQ's retry back-off
(minutes), while the other workers kept sending requests into the same full
server. RQ has nothing for this: `Retry` delays one job, and a queue can only
be paused as a whole by hand.

So the first worker that is turned away sets one pause on Redis, as long as
the server asked for (a longer pause is never shortened), and every LLM
request of every worker waits for it to end before it is sent; the request
that was turned away is sent again afterwards, in the same attempt. A job that
has spent LLM_OVERLOAD_MAX_WAIT seconds waiting gives up, and its attempt
fails like any other transient failure (retried later, or the builtin fallback
on the last attempt), so a server that never recovers still ends every job.
Redis' own clock decides when a pause ends (a key that expires), so workers on
machines with skewed clocks agree.
"""

from __future__ import annotations

import logging
import time

from redis import Redis
from redis.exceptions import RedisError

from peerdigest.config import Settings

log = logging.getLogger(__name__)

KEY = "peerdigest:llm-pause"
POLL_INTERVAL = 0.25  # seconds between two looks at whether a pause has ended (someone may extend it)

# KEYS[1]: the pause; ARGV[1]: its length in ms. Extend it, never shorten it.
_HOLD_OFF = """
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then
    redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
end
return 1
"""


class SharedPause:
    """One job's view of the pause shared by every worker (the `Backpressure` the LLM summarizer uses)."""

    def __init__(self, redis: Redis, settings: Settings, holder: str):
        self.redis = redis
        self.max_wait = settings.llm_overload_max_wait
        self.holder = holder  # the job id, for the log
        self.waited = 0.0

    def wait(self) -> None:
        """Return once no pause is in force; a Redis that does not answer counts as no pause."""
        try:
            left_ms = self.redis.pttl(KEY)
            while left_ms > 0:
                self._sleep(min(left_ms / 1000, POLL_INTERVAL))
                left_ms = self.redis.pttl(KEY)
        except RedisError as exc:
            log.warning("job %s: could not read the LLM pause (%s); sending the request", self.holder, exc)

    def hold_off(self, seconds: float) -> bool:
        """Pause every worker for `seconds`; False when this job has waited long enough and gives up."""
        seconds = min(seconds, self.max_wait)
        try:
            self.redis.eval(_HOLD_OFF, 1, KEY, max(1, int(seconds * 1000)))
        except RedisError as exc:
            log.warning("job %s: could not share the LLM pause (%s); waiting alone", self.holder, exc)
            if self.waited + seconds > self.max_wait:
                return False
            self._sleep(seconds)
            return True
        if self.waited + seconds > self.max_wait:
            log.warning("job %s: waited %.0fs for the overloaded LLM endpoint; giving up this attempt", self.holder, self.waited)
            return False
        return True

    def _sleep(self, seconds: float) -> None:
        time.sleep(seconds)
        self.waited += seconds
