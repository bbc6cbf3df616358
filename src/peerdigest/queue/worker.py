"""Run an RQ worker on the summary queues, and keep it running through Redis outages and bad data.

What this adds to RQ's worker, each where RQ lacks it:

- An outer loop. RQ retries a lost connection while it waits for a job (with
  bounded exponential back-off), but a connection lost at any other moment
  ends `Worker.work()`, or raises out of it. `run` starts a fresh worker after
  such an exit, once Redis answers again, unless a stop was asked for.
- `SummaryQueue`: RQ's dequeue re-raises any error reading a popped job, and
  its worker then quits ("found an unhandled exception"); a popped id whose
  job hash is missing is skipped in silence, and the job with it. Here an
  unreadable job is set aside (failed registry, reason, row failed) and a
  missing one re-created from its row, and the worker takes the next job.
  A popped entry that is not a job id at all (RQ decodes it before anything
  else and raises `UnicodeDecodeError`) is moved to the quarantine.
- `SummaryWorker.heartbeat`: RQ re-creates a worker's lost hash while a job
  runs, but never its registration. After Redis lost its keys (FLUSHDB, a
  failover) a worker would work on unseen by `queues stats`, `doctor` and
  `/queue/health`; its next heartbeat registers it again.
- Riding out a Redis outage. RQ's worker quits ("found an unhandled
  exception, quitting") when Redis is away at any moment but its wait for a job:
  when the job monitor's alarm (`HorseMonitorTimeoutException`) finds no Redis
  for the heartbeat, or when it records the end of a job. Here a heartbeat that
  cannot be sent is skipped (the job runs on; the reconciler only hands back a
  job whose heartbeats stopped for JOB_ABANDONED_AFTER seconds), and the end of
  a job that RQ could not record waits for Redis (the database already has
  the outcome; the reconciler aligns Redis). RQ's scheduler child dies with a
  traceback at the first lost command; `SummaryScheduler` waits for Redis instead.
- Quiet outages. RQ logs every reconnect attempt as an error, in the worker and
  in its command listener thread; here an outage is one warning when it begins
  and one line when Redis answers again (`Outage`).
- A command listener that stops at once. RQ reads its pub/sub channel in a
  thread that waits up to 60 s per read, and redis-py 8's `stop()` waits for
  that read to end: a worker stopping (SIGTERM) or starting again after an
  outage hung for up to a minute. Ours reads for a second at a time.
- A job whose work horse died is handed back at once. RQ files it as failed
  and takes the next job; the reconciler would run it again only at its next
  pass (a minute with the defaults). The worker runs the reconciler's repair
  of that one job itself (`reconcile.reconcile_job`).
- A scheduler that is looked after. RQ's worker runs its scheduler (which
  brings retries back when they are due) in a child process, and starts it
  again only in its maintenance tasks: every ten minutes, and for an idle
  worker only when its 405 s wait for a job ends. A scheduler that died with a
  lost Redis connection left due retries waiting that long. Here every
  heartbeat checks the child and starts it again, and an idle worker beats
  every JOB_HEARTBEAT_INTERVAL seconds.
"""

from __future__ import annotations

import logging
import os
import signal
import time

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq import Queue, worker_registration
from rq.defaults import DEFAULT_LOGGING_DATE_FORMAT, DEFAULT_LOGGING_FORMAT
from rq.exceptions import StopRequested
from rq.job import Job
from rq.scheduler import RQScheduler
from rq.utils import as_text
from sqlalchemy.exc import SQLAlchemyError

# Imported here, in the worker's parent process, so every forked work horse starts with
# them loaded; otherwise each new horse would pay for importing the task's dependencies
# (the openai SDK alone takes about a second) again. `tasks.use_settings` loads the rest.
import peerdigest.summarize.builtin  # noqa: F401
import peerdigest.summarize.llm  # noqa: F401
from peerdigest.config import Settings, load_settings
from peerdigest.queue import dead_workers, quarantine, tasks
from peerdigest.queue.connection import answers, describe, ensure_binary_safe, is_sentinel
from peerdigest.queue.horse import ReusedHorseWorker
from peerdigest.queue.queues import all_queues
from peerdigest.queue.reconcile import reconcile_job, recreate, set_aside, unreadable_reason

log = logging.getLogger(__name__)

MAX_RECONNECT_WAIT = 10  # seconds between attempts at most, in RQ's loop and ours: cheap, and the wait after Redis is back
LOST = (RedisConnectionError, RedisTimeoutError)  # Redis away, as opposed to Redis refusing a command
LISTENER_READ_TIMEOUT = 1  # seconds one read of the command listener thread may wait: what stopping it costs


class Outage:
    """One warning when a process loses Redis and one line when it answers again, however often it retries."""

    def __init__(self, who: str):
        self.who = who
        self.since: float | None = None

    def lost(self, exc: Exception) -> None:
        if self.since is None:
            self.since = time.monotonic()
            log.warning("%s lost Redis (%s); carrying on, and trying again until it answers", self.who, exc)

    def over(self) -> None:
        if self.since is not None:
            log.info("%s: Redis answers again (after %.0f s)", self.who, time.monotonic() - self.since)
            self.since = None

    def wait(self, redis: Redis, stopping=lambda: False) -> None:
        """Sleep until Redis answers (or `stopping()` says to give up), checking every second."""
        while not stopping() and not answers(redis):
            time.sleep(1)


class _QuietReconnects(logging.Filter):
    """Turns RQ's error line for each reconnect attempt of its wait for a job into the outage's one warning."""

    outage: Outage | None = None  # the outage of the worker running in this process

    def filter(self, record: logging.LogRecord) -> bool:
        if not str(record.msg).startswith("Worker %s: could not connect to Redis instance"):
            return True
        if self.outage is not None:
            self.outage.lost(record.args[1])
        return False


_reconnects = _QuietReconnects()


class SummaryQueue(Queue):
    @classmethod
    def lpop(cls, queue_keys, timeout: int | None, connection: Redis | None = None):
        # RQ's `dequeue_any` pops with this (a worker on several queues never takes RQ's single-queue
        # `lmove` path) and decodes the entry right after; only job ids may get that far.
        while True:
            popped = super().lpop(queue_keys, timeout, connection=connection)
            if popped is None or quarantine.is_job_id(popped[1]):
                return popped
            quarantine.record(connection, as_text(popped[0]), popped[1])

    @classmethod
    def _fetch_dequeued_job(cls, connection: Redis, queue_key: str, job_id: str, **kwargs) -> tuple[Job, Queue] | None:
        queue_name = queue_key.removeprefix(cls.redis_queue_namespace_prefix)
        try:
            fetched = super()._fetch_dequeued_job(connection, queue_key, job_id, **kwargs)
            if fetched is not None:
                fetched[0].func_name  # RQ reads the payload lazily, in the work horse; read it here
        except (RedisConnectionError, RedisTimeoutError):
            raise  # Redis itself is away: RQ's own reconnect loop handles that
        except Exception as exc:
            # Settings are read here, in the worker, as the task reads them: RQ builds its queues itself.
            set_aside(load_settings(), connection, job_id, queue_name, unreadable_reason(exc))
            return None
        if fetched is None:
            recreate(load_settings(), connection, job_id)
        return fetched


class SummaryScheduler(RQScheduler):
    """RQ's scheduler (it queues retries when they are due), waiting out a Redis outage instead of dying of it."""

    def work(self):
        outage = Outage(f"RQ scheduler (pid {os.getpid()})")
        self._install_signal_handlers()
        while not self._stop_requested:
            try:
                super().work()  # returns once a stop was asked for and it released its locks
                return
            except LOST as exc:
                # Its locks expire while Redis is away; its next heartbeat takes back those no one else took.
                outage.lost(exc)
                outage.wait(self.connection, lambda: self._stop_requested)
                outage.over()


class SummaryWorker(ReusedHorseWorker):
    queue_class = SummaryQueue
    idle_heartbeat: int | None = None  # seconds an idle worker waits for a job before it beats again
    settings: Settings | None = None  # set by `build_worker`; without, a start hands back no jobs of dead workers
    looks_after_scheduler = False  # restart a dead scheduler child (never in burst mode: it would outlive the burst)
    _horse_died_on: str | None = None  # the job whose work horse RQ's monitor just found dead

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.outage = Outage(f"worker {self.name}")
        _reconnects.outage = self.outage
        self.log.addFilter(_reconnects)  # once: a logger keeps one copy of a filter

    @property
    def dequeue_timeout(self) -> int:
        return self.idle_heartbeat or super().dequeue_timeout

    def bootstrap(self, *args, **kwargs):
        super().bootstrap(*args, **kwargs)
        if self.settings is None:
            return
        try:
            handed = dead_workers.hand_back_their_jobs(self.settings, self.connection)
        except (RedisError, SQLAlchemyError) as exc:
            log.warning("worker %s: could not look for jobs of dead workers (%s); the reconciler will", self.name, exc)
            return
        if handed:
            log.warning("worker %s: handed back %d job(s) of a worker that died on this machine", self.name, handed)

    def subscribe(self):
        # As RQ's, but with reads short enough that `stop()` returns at once (see the module's docstring).
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(
            sleep_time=LISTENER_READ_TIMEOUT, daemon=True, exception_handler=self._pubsub_exception_handler
        )

    def _pubsub_exception_handler(self, exc, pubsub, pubsub_thread) -> None:
        if not isinstance(exc, LOST):
            return super()._pubsub_exception_handler(exc, pubsub, pubsub_thread)
        self.outage.lost(exc)
        time.sleep(2)  # RQ's pause; redis-py subscribes again once it reconnects

    def maintain_heartbeats(self, job: Job, execution):
        """RQ's job monitor beats here at each alarm; a beat Redis cannot take is skipped, and the job runs on."""
        try:
            super().maintain_heartbeats(job, execution)
        except LOST as exc:
            self.outage.lost(exc)
        else:
            self.outage.over()

    def handle_work_horse_killed(self, job: Job, retpid, ret_val, rusage):
        super().handle_work_horse_killed(job, retpid, ret_val, rusage)
        self._horse_died_on = job.id

    def monitor_work_horse(self, job: Job, queue: Queue, execution):
        """RQ's watch over the horse; a job whose horse died under it is handed back at once.

        RQ files such a job as failed and takes the next one. The reconciler would hand it back
        at its next pass, up to RECONCILE_INTERVAL later; this worker knows first, and runs the
        reconciler's repair of that one job now (the run counted as an attempt).
        """
        self._horse_died_on = None
        super().monitor_work_horse(job, queue, execution)
        if self._horse_died_on != job.id or self.settings is None:
            return
        try:
            reconcile_job(self.settings, self.connection, job.id)
        except (RedisError, SQLAlchemyError) as exc:
            log.warning("job %s: its work horse died; the reconciler will hand it back (%s)", job.id, exc)

    def execute_job(self, job: Job, queue: Queue):
        try:
            super().execute_job(job, queue)
        except LOST as exc:
            # Its horse has ended (the monitor's beats never raise this): RQ could not record the end.
            # The task wrote the outcome to the database; the reconciler brings Redis in line.
            self.outage.lost(exc)
            self._horse_pid = 0
            self.outage.wait(self.connection, lambda: self._stop_requested)

    def set_shutdown_requested_date(self):
        # RQ records a stop asked for during a job on Redis, from the signal handler: away, that
        # would raise wherever the worker happened to be. The stop itself is kept in the process.
        try:
            super().set_shutdown_requested_date()
        except LOST as exc:
            self.outage.lost(exc)

    def _start_scheduler(
        self, burst=False, logging_level="INFO", date_format=DEFAULT_LOGGING_DATE_FORMAT, log_format=DEFAULT_LOGGING_FORMAT
    ):
        """RQ's `_start_scheduler` with `SummaryScheduler` in place of RQScheduler (RQ names the class inline)."""
        self.scheduler = SummaryScheduler(
            self.queues, connection=self.connection, logging_level=logging_level,
            date_format=date_format, log_format=log_format, serializer=self.serializer,
        )
        self.scheduler.acquire_locks()
        if self.scheduler.acquired_locks:
            if burst:
                try:
                    self.scheduler.register_birth()
                    self.scheduler.enqueue_scheduled_jobs()
                finally:
                    self.scheduler.release_locks()
                    self.scheduler.register_death()
            else:
                self.scheduler.start()

    def teardown(self):
        try:
            super().teardown()
        except LOST as exc:
            # RQ records the worker's death and unsubscribes here; with Redis away its hash expires
            # by itself, and `run` stops the listener thread.
            self.outage.lost(exc)
        except StopRequested:
            # A second stop signal while RQ waits for its scheduler child to end: the worker is stopping already.
            pass

    def run_maintenance_tasks(self):
        # RQ's work loop quits on any error from its maintenance (registry clean-up), so a Redis outage at that
        # moment would end the worker. This round is skipped instead; RQ runs it again at its next interval.
        try:
            super().run_maintenance_tasks()
        except LOST as exc:
            self.outage.lost(exc)

    def heartbeat(self, timeout: int | None = None, pipeline=None):
        super().heartbeat(timeout, pipeline)
        if pipeline is None:
            self.outage.over()
        # The work horse beats too (as it prepares a job); only the worker's own process has the child.
        if self.looks_after_scheduler and os.getpid() == self.pid:
            self._revive_scheduler()
        if pipeline is None and not self.connection.sismember(self.redis_workers_keys, self.key):
            log.warning("worker %s: its registration on Redis was lost; registering again", self.name)
            with self.connection.pipeline() as again:
                again.hset(self.key, mapping={**self.serialize(), "state": self.get_state()})
                again.expire(self.key, timeout or self.worker_ttl + 60)
                worker_registration.register(self, again)
                again.execute()

    def horse_started(self) -> None:
        tasks.connect()

    def _revive_scheduler(self) -> None:
        """Start the scheduler child again if it died; what RQ's maintenance tasks do, at every heartbeat."""
        scheduler = self.scheduler
        if scheduler is None or (scheduler._process is not None and scheduler._process.is_alive()):
            return
        if self._stop_requested:
            return  # RQ stopped it for the stop; one forked now would start with the worker's signal handlers
        if scheduler._process is not None:
            log.warning("worker %s: its RQ scheduler (pid %s) stopped; starting it again", self.name, scheduler._process.pid)
        # Starts it only when it gets the queues' locks; when another worker's scheduler holds them, that one works.
        scheduler.acquire_locks(auto_start=True)


def build_worker(redis: Redis, settings: Settings, name: str | None = None) -> SummaryWorker:
    # Webhook deliveries come after every summary queue: a summary never waits for a webhook.
    queues = all_queues(ensure_binary_safe(redis))
    worker = SummaryWorker(
        [queue.name for queue in queues],
        connection=redis,
        name=name,
        job_monitoring_interval=settings.job_heartbeat_interval,
    )
    worker.max_connection_wait_time = MAX_RECONNECT_WAIT
    worker.settings = settings
    worker.idle_heartbeat = settings.job_heartbeat_interval
    return worker


def run(redis: Redis, settings: Settings, *, burst: bool = False, name: str | None = None) -> int:
    """Work until stopped (or, in burst mode, until the queues are empty). Returns an exit code."""
    tasks.use_settings(settings)
    wait = 1.0
    stop = {"requested": False}
    previous = signal.getsignal(signal.SIGTERM)

    def remember_stop(signum, frame):
        stop["requested"] = True

    while True:
        worker = None
        started = time.monotonic()
        lost = False
        try:
            worker = build_worker(redis, settings, name)
            worker.looks_after_scheduler = not burst
            worker.work(burst=burst, with_scheduler=True, logging_level="INFO")
        except RedisError as exc:
            # Lost while starting, or raised by RQ's own teardown after it lost Redis mid-job.
            log.warning("worker lost Redis: %s", exc)
            lost = True
        finally:
            # RQ installs its own SIGINT/SIGTERM handlers for warm shutdown and records
            # when one fired; RQ has no public "was a stop asked for" flag.
            if worker is not None:
                stop["requested"] = stop["requested"] or worker._shutdown_requested_date is not None
            signal.signal(signal.SIGTERM, previous)
        if burst or stop["requested"]:
            return 1 if lost and not stop["requested"] else 0
        _let_go(worker)
        if time.monotonic() - started > MAX_RECONNECT_WAIT:
            wait = 1.0  # it ran fine for a while: this is a new outage, not a crash loop
        log.warning("worker stopped unexpectedly; reconnecting to %s in %.0fs", describe_url(redis), wait)
        signal.signal(signal.SIGTERM, remember_stop)
        _sleep_until_answers(redis, wait, stop)
        if stop["requested"]:
            return 0
        wait = min(wait * 2, MAX_RECONNECT_WAIT)


def _let_go(worker: SummaryWorker | None) -> None:
    """Stop what RQ's teardown could not while Redis was away, or never reached when the worker
    lost Redis while starting: the old worker's command listener thread, and its work horse."""
    if worker is None:
        return
    if worker.pubsub_thread is not None and worker.pubsub_thread.is_alive():
        worker.pubsub_thread.stop()
    worker.retire_horse()


def _sleep_until_answers(redis: Redis, wait: float, stop: dict) -> None:
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and not stop["requested"]:
        time.sleep(0.2)
    if not stop["requested"] and not answers(redis):
        log.warning("Redis at %s does not answer; waiting for it", describe_url(redis))
        while not stop["requested"] and not answers(redis):
            time.sleep(1)


def describe_url(redis: Redis) -> str:
    if is_sentinel(redis):
        return f"the master {redis.connection_pool.service_name!r} (asking its Sentinels)"
    kwargs = redis.connection_pool.connection_kwargs
    return describe(f"redis://{kwargs.get('host', '?')}:{kwargs.get('port', '?')}/{kwargs.get('db', 0)}")
