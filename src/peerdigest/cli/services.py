"""Running the services: migrate, api, worker, scheduler, up, run, and the demo."""

from __future__ import annotations

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


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema (Alembic)."""
    from peerdigest.db.migrate import upgrade

    settings = settings_or_exit()
    upgrade(settings.database_url)
    console.print("Database is up to date.")


@app.command()
def seed() -> None:
    """Add the demo school (evaluations 56 and 57, docent@example.com) if it is missing."""
    from peerdigest.db.session import session_scope
    from peerdigest.dev.seed import seed_demo

    settings = settings_or_exit()
    with session_scope(settings.database_url) as session:
        created = seed_demo(session)
    console.print("Demo school created." if created else "Demo school already there.")


@app.command()
def api(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
) -> None:
    """Serve the HTTP API."""
    import uvicorn

    from peerdigest.api.app import create_app
    from peerdigest.dev.embedded_redis import resolve
    from peerdigest.domain.auth import startup_problem

    settings = settings_or_exit()
    problem = startup_problem(settings)
    if problem is not None:
        err.print(f"[red]Refusing to start the API:[/red] {problem}")
        raise typer.Exit(2)
    refuse_if_unfit(settings, "api")
    setup_logging()
    # No `_redis_or_exit`: with Redis down the API still accepts jobs (the reconciler queues them later).
    url, _ = resolve(settings, allow_embedded=False)
    # proxy_headers=False: AUTH_MODE=proxy must see the address of the proxy itself, which uvicorn
    # would otherwise replace by the (client-supplied) X-Forwarded-For.
    uvicorn.run(create_app(settings, redis_url=url), host=host, port=port, log_level="info", proxy_headers=False)


@app.command()
def worker(
    burst: Annotated[bool, typer.Option(help="Stop when the queues are empty")] = False,
    name: Annotated[str | None, typer.Option(help="Worker name (default: a random id chosen by RQ)")] = None,
) -> None:
    """Run a worker on the summary queues (high, then normal, then low)."""
    from peerdigest.queue.worker import run

    settings = settings_or_exit()
    refuse_if_unfit(settings, "worker")
    setup_logging()
    redis, _, _ = redis_or_exit(settings)
    raise typer.Exit(run(redis, settings, burst=burst, name=name))


@app.command()
def scheduler() -> None:
    """Queue the summaries of due schedules, and reconcile Redis with the database, until stopped.

    Several schedulers may run at once (for availability): each run is queued by exactly one.
    """
    import signal
    import threading

    from peerdigest.domain.schedules import serve
    from peerdigest.queue.reconcile import reconcile

    settings = settings_or_exit()
    refuse_if_unfit(settings, "scheduler")
    setup_logging()
    redis, _, _ = redis_or_exit(settings)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    serve(settings, redis, stop, reconcile=lambda: reconcile(settings, redis))


@app.command()
def up() -> None:
    """Make sure a Redis answers (starting an embedded one if needed) and keep it up until Ctrl+C."""
    from peerdigest.queue.connection import describe

    settings = settings_or_exit()
    _, url, embedded = redis_or_exit(settings, allow_embedded=True)
    if embedded is None:
        console.print(f"Redis already answers at {describe(url)}; nothing to start.")
        return
    console.print(f"Embedded Redis running at {url} (data in {embedded.directory}). Ctrl+C stops it.")
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
) -> None:
    """Everything in the foreground: Redis if missing, migrations, demo data, API and workers. Ctrl+C stops all."""
    from peerdigest.dev.devserver import run_all

    settings = settings_or_exit()
    setup_logging()
    raise typer.Exit(run_all(settings, port=port, workers=workers))


@app.command()
def demo(
    evaluation: Annotated[int, typer.Option(help="Evaluation to summarize")] = 56,
) -> None:
    """Run the whole pipeline once on the demo school and print the summaries."""
    from peerdigest.dev.demo import run_demo

    raise typer.Exit(run_demo(settings_or_exit(), evaluation_id=evaluation, console=console))


@app.command()
def doctor() -> None:
    """Check Redis, the queue connection, versions, database, LLM, workers and clocks; one line each, with the fix."""
    from peerdigest.ops.doctor import Level, diagnose

    findings = diagnose(settings_or_exit())
    for finding in findings:
        console.print(finding.line(), markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(1 if any(finding.level == Level.fail for finding in findings) else 0)
