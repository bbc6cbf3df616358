"""The `peerdigest` command: run the services, operate the queues, try the demo."""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from peerdigest.config import Settings, load_settings

app = typer.Typer(help="Tactful summaries of peer feedback, written by RQ workers.", no_args_is_help=True)
queues_app = typer.Typer(help="Inspect and empty the summary queues on Redis.", no_args_is_help=True)
app.add_typer(queues_app, name="queues")

console = Console()
err = Console(stderr=True)


def _settings() -> Settings:
    try:
        return load_settings()
    except Exception as exc:  # pydantic's message names the bad variable
        err.print(f"[red]Configuration error:[/red] {exc}")
        raise typer.Exit(2) from exc


def _redis_or_exit(settings: Settings, allow_embedded: bool = False):
    """The queue connection for a service; exits with a clear message when Redis does not answer."""
    from peerdigest.embedded_redis import resolve
    from peerdigest.queue.connection import answers, connect, describe

    url, embedded = resolve(settings, allow_embedded=allow_embedded)
    client = connect(url)
    if not answers(client):
        err.print(
            f"[red]Redis does not answer at {describe(url)}.[/red] Start it (`make up`), "
            "or set REDIS_URL to a running Redis."
        )
        raise typer.Exit(1)
    return client, url, embedded


def _logging(level: str = "INFO") -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema (Alembic)."""
    from peerdigest.db.migrate import upgrade

    settings = _settings()
    upgrade(settings.database_url)
    console.print("Database is up to date.")


@app.command()
def seed() -> None:
    """Add the demo school (evaluations 56 and 57, docent@example.com) if it is missing."""
    from peerdigest.db.session import session_scope
    from peerdigest.seed import seed_demo

    settings = _settings()
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

    settings = _settings()
    _logging()
    _, url, _ = _redis_or_exit(settings)
    uvicorn.run(create_app(settings, redis_url=url), host=host, port=port, log_level="info")


@app.command()
def worker(
    burst: Annotated[bool, typer.Option(help="Stop when the queues are empty")] = False,
    name: Annotated[str | None, typer.Option(help="Worker name (default: host and pid)")] = None,
) -> None:
    """Run a worker on the summary queues (high, then normal, then low)."""
    from peerdigest.queue.worker import run

    settings = _settings()
    _logging()
    redis, _, _ = _redis_or_exit(settings)
    raise typer.Exit(run(redis, burst=burst, name=name))


@app.command()
def up() -> None:
    """Make sure a Redis answers (starting an embedded one if needed) and keep it up until Ctrl+C."""
    from peerdigest.queue.connection import describe

    settings = _settings()
    _, url, embedded = _redis_or_exit(settings, allow_embedded=True)
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
    from peerdigest.devserver import run_all

    settings = _settings()
    _logging()
    raise typer.Exit(run_all(settings, port=port, workers=workers))


@app.command()
def demo(
    evaluation: Annotated[int, typer.Option(help="Evaluation to summarize")] = 56,
) -> None:
    """Run the whole pipeline once on the demo school and print the summaries."""
    from peerdigest.demo import run_demo

    raise typer.Exit(run_demo(_settings(), evaluation_id=evaluation, console=console))


@queues_app.command("stats")
def queues_stats() -> None:
    """Queue depths, registries and workers."""
    from peerdigest.queue.maintenance import queue_stats

    settings = _settings()
    redis, _, _ = _redis_or_exit(settings)
    stats = queue_stats(redis)
    table = Table("queue", "queued", "started", "scheduled", "failed", "finished")
    for q in stats["queues"]:
        table.add_row(q["name"], *(str(q[k]) for k in ("queued", "started", "scheduled", "failed", "finished")))
    console.print(table)
    workers_table = Table("worker", "state", "current job", "last heartbeat")
    for w in stats["workers"]:
        workers_table.add_row(w["name"], w["state"], w["current_job"] or "-", w["last_heartbeat"] or "-")
    console.print(workers_table if stats["workers"] else "No workers running.")


@queues_app.command("clear")
def queues_clear(
    flush_db: Annotated[bool, typer.Option("--flush-db", help="Also FLUSHDB the whole Redis database")] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")] = False,
) -> None:
    """Empty the summary queues and their registries. Never touches the database of record."""
    from peerdigest.queue.connection import describe
    from peerdigest.queue.maintenance import clear_queues

    settings = _settings()
    redis, url, _ = _redis_or_exit(settings)
    if flush_db and not yes:
        if not sys.stdin.isatty():
            err.print("[red]--flush-db needs a confirmation:[/red] type YES at the prompt, or pass --yes.")
            raise typer.Exit(2)
        answer = typer.prompt(f"This deletes EVERY key in {describe(url)}. Type YES to go on")
        if answer != "YES":
            console.print("Nothing done.")
            raise typer.Exit(1)
    removed = clear_queues(redis, flush_db=flush_db)
    console.print(f"Removed {removed} job(s) from the summary queues and registries.")
    if flush_db:
        console.print(f"Flushed Redis database {describe(url)}.")
    console.print(
        "Jobs still open in the database are put back on the queues by `peerdigest jobs recover` "
        "or by the scheduler's reconciler."
    )


def main() -> None:
    app()


if __name__ == "__main__":
    main()
