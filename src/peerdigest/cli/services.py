"""Running the services: migrate, api, worker, scheduler, up, run, and the demo."""

from __future__ import annotations

import logging
import os
from typing import Annotated

import typer

from peerdigest.cli.app import app
from peerdigest.cli.common import (
    console,
    err,
    redis_or_exit,
    refuse_if_unfit,
    settings_or_exit,
    setup_logging,
)
from peerdigest.db.models import MAX_ID


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema (Alembic)."""
    from peerdigest.db.migrate import upgrade

    settings = settings_or_exit()
    upgrade(settings.database_url)
    console.print("Database is up to date.")


@app.command()
def seed() -> None:
    """Add the demo school (evaluations 56 and 57, docent@example.com) if it is missing; on free ids where those are taken."""
    from peerdigest.db.session import session_scope
    from peerdigest.dev.seed import DemoSchoolConflict, seed_demo

    settings = settings_or_exit()
    try:
        with session_scope(settings.database_url) as session:
            school = seed_demo(session)
    except DemoSchoolConflict as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    console.print("Demo school created." if school.created else "Demo school already there.")
    if school.moved:
        console.print(school.describe_moved())


@app.command()
def api(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
    workers: Annotated[int | None, typer.Option(min=1, max=64, help="Processes serving it (default: API_WORKERS)")] = None,
) -> None:
    """Serve the HTTP API."""
    import uvicorn

    from peerdigest.web.app import create_app
    from peerdigest.domain.auth import startup_problem
    from peerdigest.queue.connection import configured_url

    settings = settings_or_exit()
    problem = startup_problem(settings)
    if problem is not None:
        err.print(f"[red]Refusing to start the API:[/red] {problem}")
        raise typer.Exit(2)
    refuse_if_unfit(settings, "api")
    setup_logging()
    # No `_redis_or_exit`: with Redis down the API still accepts jobs (the reconciler queues them later).
    url = configured_url(settings)
    # proxy_headers=False: AUTH_MODE=proxy must see the address of the proxy itself, which uvicorn
    # would otherwise replace by the (client-supplied) X-Forwarded-For.
    processes = workers or settings.api_workers
    if processes == 1:
        uvicorn.run(create_app(settings, redis_url=url), host=host, port=port, log_level="info", proxy_headers=False)
        return
    # Several processes: uvicorn starts each one and builds its app there, from the same environment.
    uvicorn.run("peerdigest.web.app:from_environment", factory=True, workers=processes, host=host, port=port,
                log_level="info", proxy_headers=False)


@app.command()
def worker(
    burst: Annotated[bool, typer.Option(help="Stop when the queues are empty")] = False,
    name: Annotated[str | None, typer.Option(help="Worker name (default: a random id chosen by RQ); one process only")] = None,
    processes: Annotated[
        int | None, typer.Option(min=1, help="Worker processes under one supervisor that restarts any that dies "
                                 "(default: WORKER_PROCESSES)")
    ] = None,
) -> None:
    """Run workers on the summary queues (high, then normal, then low)."""
    settings = settings_or_exit()
    processes = processes or settings.worker_processes
    if name and processes > 1:
        err.print("[red]--name names one worker;[/red] the workers of --processes N get names of their own.")
        raise typer.Exit(2)
    refuse_if_unfit(settings, "worker")
    setup_logging()
    redis, url = redis_or_exit(settings)
    if processes > 1:
        from peerdigest.queue.pool import run_pool

        raise typer.Exit(run_pool(url, settings, processes, burst=burst))
    from peerdigest.queue.pool import children_die_with_parent, memory
    from peerdigest.queue.worker import run

    children_die_with_parent()
    logging.getLogger(__name__).info("worker (pid %d) starting: %s", os.getpid(), memory())
    raise typer.Exit(run(redis, settings, burst=burst, name=name))


@app.command()
def scheduler() -> None:
    """Queue the summaries of due schedules and closed evaluations, send due reminders, and reconcile Redis with
    the database, until stopped.

    Several schedulers may run at once (for availability): each run, reminder and close is done by exactly one.
    """
    import signal
    import threading

    from peerdigest.queue.cron import serve
    from peerdigest.queue.reconcile import reconcile

    settings = settings_or_exit()
    refuse_if_unfit(settings, "scheduler")
    setup_logging()
    redis, _ = redis_or_exit(settings)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    serve(settings, redis, stop, reconcile=lambda: reconcile(settings, redis))


@app.command()
def up() -> None:
    """Make sure a Redis answers (starting an embedded one if needed) and keep it up until Ctrl+C."""
    import signal

    from peerdigest.dev.embedded_redis import resolve
    from peerdigest.queue.connection import describe

    settings = settings_or_exit()
    url, embedded = resolve(settings)
    if embedded is None:
        redis_or_exit(settings)
        console.print(f"Redis already answers at {describe(url)}; nothing to start.")
        return
    console.print(f"Embedded Redis running at {url} (data in {embedded.directory}). Ctrl+C stops it.")
    for signum in (signal.SIGTERM, signal.SIGHUP):  # stop as Ctrl+C does
        signal.signal(signum, signal.default_int_handler)
    try:
        embedded.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        embedded.stop()


@app.command()
def run(
    port: Annotated[int, typer.Option(help="API port")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Number of worker processes")] = 1,
    seed: Annotated[
        bool | None, typer.Option("--seed/--no-seed", help="Add the demo school (default: only to the default "
                                  "SQLite database in DATA_DIR while it holds no other school)")
    ] = None,
) -> None:
    """Everything in the foreground: Redis if missing, migrations, API, workers and scheduler. Ctrl+C stops all.

    The demo school is added only to the demo's own database (the default one, holding no other school) or with --seed.
    """
    from peerdigest.dev.devserver import run_all

    settings = settings_or_exit()
    setup_logging()
    raise typer.Exit(run_all(settings, port=port, workers=workers, seed=seed))


@app.command()
def demo(
    evaluation: Annotated[
        int | None, typer.Option(min=1, max=MAX_ID, help="Evaluation to summarize, e.g. an imported one (default: the demo school's, 56)")
    ] = None,
) -> None:
    """Run the whole pipeline once on an evaluation (the demo school's by default) and print the summaries."""
    from peerdigest.dev.demo import run_demo

    raise typer.Exit(run_demo(settings_or_exit(), evaluation_id=evaluation, console=console))


@app.command()
def doctor() -> None:
    """Check Redis, the queue connection, versions, database, LLM, workers, clocks, and the database against Redis; one line each, with the fix."""
    from peerdigest.ops.doctor import Level, diagnose

    findings = diagnose(settings_or_exit())
    for finding in findings:
        console.print(finding.line(), markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(1 if any(finding.level == Level.fail for finding in findings) else 0)
