"""A work horse that stays for many jobs: RQ's fork-per-job isolation without paying for the fork every job.

RQ's `Worker` forks a new work horse for each job and the horse exits with it.
That isolation is what we need: a hung job is ended by killing its horse (the
job timeout, a cancel's stop command), and a crash or an out-of-memory kill
takes one job, not the worker. Its price, measured on the summary job with the
builtin summarizer on an idle 2-core machine: 21 ms run in the worker itself,
84 ms in a freshly forked horse. The new process pays for a new database
connection, statement caches and compiled patterns its parent never filled,
and for copying on write every page of the parent that Python's reference
counting touches. RQ has no worker that keeps a horse; `SimpleWorker` keeps
the speed but loses the isolation.

`ReusedHorseWorker` keeps the horse after a job and hands it the next one over
a pipe. To RQ's own code the horse still looks like one that ends with its job,
so everything RQ does around a horse holds unchanged:

- `wait_for_horse` returns when the horse reports the job done, as if it had
  exited with status 0; or, when it really died, with its exit status, as before.
  RQ's monitor loop around it (heartbeats, job timeout + 60 s) is RQ's own.
- Killing the horse (that timeout, a stop-job command, a cold shutdown) kills
  it as before, and the next job forks a new one.
- A horse that raised out of RQ's own job handling exits with 1, as RQ's does.
- After `JOBS_PER_HORSE` jobs the horse is replaced, so whatever it leaks
  leaves with it; an idle horse is stopped when its worker stops (and, should
  the worker be killed, by the kernel: `pool.children_die_with_parent`).
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
from dataclasses import dataclass

from rq import Worker
from rq.executions import Execution
from rq.job import Job
from rq.queue import Queue


# Jobs one horse runs before it is replaced: its start-up (~60 ms) is then a fraction of a
# millisecond per job, and a leak of even 1 MiB a job stays bounded.
JOBS_PER_HORSE = 200

DONE = b"."  # what the horse writes when a job has ended, however it ended


@dataclass
class _Horse:
    pid: int
    jobs_w: int  # the worker writes "<job id> <queue name> <execution id>\n" here
    done_r: int  # ... and reads DONE here, or end-of-file when the horse died
    jobs: int = 0  # jobs handed to it so far

    def close(self) -> None:
        for fd in (self.jobs_w, self.done_r):
            with contextlib.suppress(OSError):
                os.close(fd)


class ReusedHorseWorker(Worker):
    jobs_per_horse = JOBS_PER_HORSE
    _horse: _Horse | None = None

    # --- in the worker ------------------------------------------------------------

    def bootstrap(self, *args, **kwargs):
        super().bootstrap(*args, **kwargs)
        # The first job should not wait for a horse to start: with several workers started
        # together, their horses' start-ups would all fall on the first jobs at once.
        self._fork_horse()

    def fork_work_horse(self, job: Job, queue: Queue):
        if self._horse is not None and self._horse.jobs >= self.jobs_per_horse:
            self.retire_horse()
        message = f"{job.id} {queue.name} {self.execution.id}\n".encode()
        try:
            os.write((self._horse or self._fork_horse()).jobs_w, message)
        except BrokenPipeError:  # it died while idle (killed, out of memory): a new one takes the job
            self._bury_horse()
            os.write(self._fork_horse().jobs_w, message)
        horse = self._horse
        horse.jobs += 1
        self._horse_pid = horse.pid
        self.procline(f"Job {job.id} handed to horse {horse.pid} (its job {horse.jobs})")

    def _fork_horse(self) -> _Horse:
        jobs_r, jobs_w = os.pipe()
        done_r, done_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(jobs_w)
            os.close(done_r)
            os.setpgrp()  # as RQ's horse: a signal to the worker's group (Ctrl+C) is not for the job
            self._serve(jobs_r, done_w)
        os.close(jobs_r)
        os.close(done_w)  # the horse holds the only writing end: its death reads as end-of-file
        self._horse = _Horse(pid, jobs_w, done_r)
        return self._horse

    def wait_for_horse(self):
        horse = self._horse
        if horse is None or horse.pid != self.horse_pid:
            return super().wait_for_horse()
        # RQ's monitor interrupts this wait (SIGALRM) to beat and to check the job's timeout.
        if os.read(horse.done_r, 1) == DONE:
            return horse.pid, os.EX_OK, None
        return self._bury_horse()

    def _bury_horse(self):
        """Collect the exit status of a horse that died: what RQ's own wait would have returned."""
        horse, self._horse = self._horse, None
        horse.close()
        pid = status = rusage = None
        with contextlib.suppress(ChildProcessError):
            pid, status, rusage = os.wait4(horse.pid, 0)
        return pid, status, rusage

    def retire_horse(self) -> None:
        """Stop the horse, once the job it may still run has ended.

        Between jobs there is nothing to interrupt. A horse still on a job here is
        one RQ's monitor stopped watching (its Redis connection was lost mid-job):
        the job goes on to its end, as a horse of RQ's own would, and then the
        horse goes. A pipe's end-of-file cannot tell it so: RQ's scheduler, forked
        from the worker, holds copies of the pipes.
        """
        horse = self._horse
        if horse is None:
            return
        if self.horse_pid == horse.pid:
            with contextlib.suppress(OSError):
                os.read(horse.done_r, 1)  # returns when the job is done or the horse dead
        with contextlib.suppress(ProcessLookupError):
            os.kill(horse.pid, signal.SIGTERM)
        self._bury_horse()
        self._horse_pid = 0

    def teardown(self):
        try:
            super().teardown()
        finally:
            if not self.is_horse:
                self.retire_horse()

    # --- in the horse ---------------------------------------------------------------

    def horse_started(self) -> None:
        """Runs in each new horse before its first job: a subclass prepares there what every job needs."""

    def _serve(self, jobs_r: int, done_w: int) -> None:
        """Run every job the worker hands over, until the worker goes (or kills this process)."""
        random.seed()  # not the sequence of the worker, nor of the horse before
        self.setup_work_horse_signals()
        self._is_horse = True
        incoming = os.fdopen(jobs_r, "rb", buffering=0)
        try:
            self.horse_started()
            while line := incoming.readline():
                job, queue = self._next(*line.decode().split())
                self.perform_job(job, queue, self.execution)
                os.write(done_w, DONE)
        except BaseException:
            os._exit(1)
        os._exit(0)  # the worker closed its end

    def _next(self, job_id: str, queue_name: str, execution_id: str) -> tuple[Job, Queue]:
        """The job the worker dequeued, read back from Redis as RQ's `SpawnWorker` reads it."""
        job = self.job_class.fetch(job_id, connection=self.connection, serializer=self.serializer)
        queue = self.queue_class(
            queue_name, connection=self.connection, job_class=self.job_class,
            serializer=self.serializer, death_penalty_class=self.death_penalty_class,
        )
        execution = Execution.fetch(execution_id, job.id, connection=self.connection)
        execution._job = job
        self.execution = execution
        return job, queue
