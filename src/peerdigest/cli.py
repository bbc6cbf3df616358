"""The `peerdigest` command: run the services, operate the queues, try the demo."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from peerdigest.config import Language, Settings, load_settings
from peerdigest.db.models import JobStatus
from peerdigest.exporter import ExportFormat

app = typer.Typer(help="Tactful summaries of peer feedback, written by RQ workers.", no_args_is_help=True)
queues_app = typer.Typer(help="Inspect and empty the summary queues on Redis.", no_args_is_help=True)
app.add_typer(queues_app, name="queues")
jobs_app = typer.Typer(help="Follow, cancel and retry summary jobs (the database of record).", no_args_is_help=True)
app.add_typer(jobs_app, name="jobs")
tokens_app = typer.Typer(help="API tokens for AUTH_MODE=token: create, list, revoke.", no_args_is_help=True)
app.add_typer(tokens_app, name="tokens")

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
    from peerdigest.queue.connection import answers, describe

    url, embedded = resolve(settings, allow_embedded=allow_embedded)
    client = _connect_or_exit(url)
    if not answers(client):
        err.print(
            f"[red]Redis does not answer at {describe(url)}.[/red] Start it (`make up`), "
            "or set REDIS_URL to a running Redis."
        )
        raise typer.Exit(1)
    return client, url, embedded


def _connect_or_exit(url: str):
    from peerdigest.queue.connection import DecodingConnectionError, connect

    try:
        return connect(url)
    except DecodingConnectionError as exc:
        err.print(f"[red]Refusing a decoding Redis connection:[/red] {exc}")
        raise typer.Exit(2) from None


def _refuse_if_unfit(settings: Settings, service: str) -> None:
    """Run the doctor's checks that would make `service` fail, and exit with their lines if any does."""
    from peerdigest.doctor import start_problems

    problems = start_problems(settings, service)
    for finding in problems:
        err.print(finding.line(), markup=False, highlight=False, soft_wrap=True)
    if problems:
        err.print(f"Refusing to start the {service}; `peerdigest doctor` checks everything.", markup=False)
        raise typer.Exit(1)


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
    from peerdigest.auth import startup_problem
    from peerdigest.embedded_redis import resolve

    settings = _settings()
    problem = startup_problem(settings)
    if problem is not None:
        err.print(f"[red]Refusing to start the API:[/red] {problem}")
        raise typer.Exit(2)
    _refuse_if_unfit(settings, "api")
    _logging()
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

    settings = _settings()
    _refuse_if_unfit(settings, "worker")
    _logging()
    redis, _, _ = _redis_or_exit(settings)
    raise typer.Exit(run(redis, settings, burst=burst, name=name))


@app.command()
def scheduler() -> None:
    """Queue the summaries of due schedules, and reconcile Redis with the database, until stopped.

    Several schedulers may run at once (for availability): each run is queued by exactly one.
    """
    import signal
    import threading

    from peerdigest.queue.reconcile import reconcile
    from peerdigest.scheduler import serve

    settings = _settings()
    _refuse_if_unfit(settings, "scheduler")
    _logging()
    redis, _, _ = _redis_or_exit(settings)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    serve(settings, redis, stop, reconcile=lambda: reconcile(settings, redis))


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


@app.command()
def preview(
    evaluation: Annotated[int, typer.Option(help="The evaluation")],
    student: Annotated[int, typer.Option(help="The student whose received feedback to summarize")],
    show_prompt: Annotated[bool, typer.Option("--show-prompt", help="Also print the instructions sent")] = False,
) -> None:
    """Show what would be sent to the LLM for one student and what comes back; stores nothing."""
    from peerdigest.feedback import FeedbackError
    from peerdigest.summarize.preview import preview as run_preview, show

    try:
        shown = run_preview(_settings(), evaluation, student)
    except FeedbackError as exc:
        err.print(f"[red]{exc}.[/red]")
        raise typer.Exit(1) from exc
    show(console, shown, show_prompt=show_prompt)


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


def _queue_connection(settings: Settings):
    """The queue connection, whether or not Redis answers now: job commands change the database of record
    first, and whatever Redis misses is caught up by the workers and the reconciler."""
    from peerdigest.embedded_redis import resolve

    url, _ = resolve(settings, allow_embedded=False)
    return _connect_or_exit(url)


@jobs_app.command("list")
def jobs_list(
    evaluation: Annotated[int | None, typer.Option(help="Only the jobs of this evaluation")] = None,
    status: Annotated[JobStatus | None, typer.Option(help="Only jobs in this status")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many, newest first")] = 50,
) -> None:
    """Jobs, newest first."""
    from peerdigest.db.session import session_scope
    from peerdigest.queue.jobs import list_jobs

    settings = _settings()
    with session_scope(settings.database_url) as session:
        jobs = list_jobs(session, evaluation_id=evaluation, status=status, limit=limit)
    if not jobs:
        console.print("No jobs.")
        return
    # The job id names evaluation and student (summary-56-19-…) and is never shortened: it is what
    # `jobs show|cancel|retry` take. Narrow terminals shorten the error instead.
    table = Table()
    table.add_column("job", no_wrap=True, min_width=max(len(job.job_id) for job in jobs))
    for header in ("status", "priority", "attempts"):
        table.add_column(header)
    table.add_column("created", no_wrap=True)
    table.add_column("error", no_wrap=True, overflow="ellipsis")
    for job in jobs:
        table.add_row(
            job.job_id, job.status + (" (cached)" if job.cached else ""), job.priority,
            f"{job.attempts}/{job.max_retries + 1}", f"{job.created_at:%m-%d %H:%M:%S}", job.error or "",
        )
    console.print(table)


@jobs_app.command("show")
def jobs_show(job_id: Annotated[str, typer.Argument(help="The job id, e.g. summary-56-19-0a1b2c3d4e5f")]) -> None:
    """Everything the database knows about one job."""
    from peerdigest.db.session import session_scope
    from peerdigest.queue.jobs import find

    settings = _settings()
    with session_scope(settings.database_url) as session:
        job = find(session, job_id)
    if job is None:
        err.print(f"[red]No job {job_id!r}.[/red]")
        raise typer.Exit(1)
    table = Table("field", "value", show_header=False)
    fields = {
        "job": job.job_id, "evaluation": job.evaluation_id, "student": job.student_id, "status": job.status,
        "cached": job.cached, "priority": job.priority, "progress": f"{job.progress}%",
        "attempts": f"{job.attempts} of at most {job.max_retries + 1}", "next retry at": job.next_retry_at,
        "created": job.created_at, "enqueued": job.enqueued_at, "started": job.started_at,
        "completed": job.completed_at, "cancelled": job.cancelled_at, "cancelled by": job.cancelled_by_id,
        "worker": job.worker_name, "webhook": job.webhook_url, "error": job.error,
        "method": (job.result or {}).get("generation_method"), "summary": (job.result or {}).get("summary_text"),
    }
    for name, value in fields.items():
        table.add_row(name, "-" if value is None else str(value))
    console.print(table)


@jobs_app.command("cancel")
def jobs_cancel(job_id: Annotated[str, typer.Argument(help="The job to cancel")]) -> None:
    """Cancel a queued job (it never runs) or stop a running one."""
    from peerdigest.db.session import session_scope
    from peerdigest.queue.cancel import CannotCancel, cancel

    settings = _settings()
    redis = _queue_connection(settings)
    with session_scope(settings.database_url) as session:
        try:
            cancel(session, redis, job_id, by_id=None)
        except CannotCancel as exc:
            err.print(f"[red]{exc}[/red]")
            raise typer.Exit(1) from None
    console.print(f"Job {job_id} cancelled.")


@jobs_app.command("retry")
def jobs_retry(job_id: Annotated[str, typer.Argument(help="A failed or cancelled job")]) -> None:
    """Queue a new job for the student of a failed or cancelled one, with the same options."""
    from peerdigest.db.session import session_scope
    from peerdigest.queue.enqueue import NotRetryable, retry_job

    settings = _settings()
    redis = _queue_connection(settings)
    with session_scope(settings.database_url) as session:
        try:
            accepted = retry_job(session, redis, settings, job_id)
        except NotRetryable as exc:
            err.print(f"[red]{exc}[/red]")
            raise typer.Exit(1) from None
        new = accepted.job
        if not accepted.created:
            console.print(f"The student already has an open job: {new.job_id} ({new.status}).")
        elif new.cached:
            console.print(f"Job {new.job_id} completed at once from the stored summary (feedback unchanged).")
        else:
            console.print(f"Job {new.job_id} queued ({new.priority} priority).")


@jobs_app.command("recover")
def jobs_recover() -> None:
    """Bring Redis in line with the database now: queue what Redis lost, run again what a dead worker left."""
    from peerdigest.queue.reconcile import LOCK_TTL, reconcile

    settings = _settings()
    _logging("WARNING")
    redis, _, _ = _redis_or_exit(settings)
    report = reconcile(settings, redis, wait=LOCK_TTL)
    if report.skipped:
        err.print(f"Nothing done: {report.skipped}.")
        raise typer.Exit(1)
    table = Table("repair", "jobs")
    for name, count in report.counts().items():
        table.add_row(name.replace("_", " "), str(count))
    console.print(table)
    console.print(f"Checked {report.checked} open job(s); {report.repairs} repaired.")


@app.command()
def doctor() -> None:
    """Check Redis, the queue connection, versions, database, LLM, workers and clocks; one line each, with the fix."""
    from peerdigest.doctor import Level, diagnose

    findings = diagnose(_settings())
    for finding in findings:
        console.print(finding.line(), markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(1 if any(finding.level == Level.fail for finding in findings) else 0)


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV (`,` or `;`), JSON list or JSON Lines")],
    school: Annotated[str, typer.Option(help="School name; created when missing")],
    evaluation: Annotated[str, typer.Option(help="Evaluation title; created when missing")],
    language: Annotated[Language | None, typer.Option(help="Language of the evaluation (default: unchanged, or SUMMARY_LANGUAGE when new)")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check the file and show what would change; write nothing")] = False,
) -> None:
    """Import peer feedback from a file: all of it, or nothing and a list of every problem."""
    from rich.progress import Progress

    from peerdigest.db.session import session_scope
    from peerdigest.importer import import_file

    settings = _settings()
    with Progress(console=err, transient=True) as bar, session_scope(settings.database_url) as session:
        task = bar.add_task(f"Importing {file.name}", total=None)
        report = import_file(
            session, file, school=school, evaluation=evaluation, language=language,
            default_language=settings.summary_language, max_bytes=settings.import_max_bytes,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
        if dry_run or not report.ok:
            session.rollback()
    if not report.ok:
        table = Table("line", "problem")
        for problem in report.problems:
            table.add_row("-" if problem.line is None else str(problem.line), problem.message)
        err.print(table)
        err.print(f"[red]{len(report.problems)} problem(s) in {file}; nothing was imported.[/red]")
        raise typer.Exit(1)
    if dry_run:
        console.print(f"Dry run, nothing written. {report.describe()}")
    else:
        console.print(f"{report.describe()} Evaluation id: {report.evaluation_id}.")


@app.command()
def export(
    evaluation: Annotated[int, typer.Option(help="Evaluation id")],
    format: Annotated[ExportFormat, typer.Option(help="csv, json or md (printable Markdown)")] = ExportFormat.csv,
    output: Annotated[Path | None, typer.Option(help="Write to this file instead of standard output")] = None,
) -> None:
    """Every student of an evaluation with their summary, method, feedback count and date."""
    from peerdigest.db.models import Evaluation
    from peerdigest.db.session import session_scope
    from peerdigest.exporter import export as export_summaries

    settings = _settings()
    with session_scope(settings.database_url) as session:
        found = session.get(Evaluation, evaluation)
        if found is None:
            err.print(f"[red]No evaluation {evaluation}.[/red]")
            raise typer.Exit(1)
        text = export_summaries(session, found, format)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        err.print(f"Wrote {output}.")


def _user_or_exit(session, email: str):
    from peerdigest.auth import NotAuthenticated, user_by_email

    try:
        return user_by_email(session, email, header="--user")
    except NotAuthenticated as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None


@tokens_app.command("create")
def tokens_create(
    user: Annotated[str, typer.Option(help="Email of the user the token acts as")],
    name: Annotated[str, typer.Option(help="What the token is for, to recognise it in `tokens list`")] = "",
    days: Annotated[int, typer.Option(min=0, help="Days until it expires; 0: never")] = 90,
) -> None:
    """Create an API token. It is printed once and cannot be shown again."""
    from datetime import timedelta

    from peerdigest.auth import create_token
    from peerdigest.db.session import session_scope

    settings = _settings()
    with session_scope(settings.database_url) as session:
        owner = _user_or_exit(session, user)
        issued = create_token(session, owner, name=name, expires_in=timedelta(days=days) if days else None)
        expiry = f"expires {issued.token.expires_at:%Y-%m-%d}" if issued.token.expires_at else "never expires"
        err.print(f"Token {issued.token.id} for {owner.email} ({expiry}). Store it now: it is not shown again.")
    print(issued.secret)  # alone on standard output, so a script can capture it


@tokens_app.command("list")
def tokens_list(user: Annotated[str | None, typer.Option(help="Only the tokens of this email")] = None) -> None:
    """Tokens with their owner, state and last use (never the tokens themselves)."""
    from peerdigest.auth import token_state, tokens
    from peerdigest.db.session import session_scope

    settings = _settings()
    with session_scope(settings.database_url) as session:
        owner = _user_or_exit(session, user) if user else None
        table = Table("id", "user", "name", "state", "created", "expires", "last used")
        for token in tokens(session, owner):
            table.add_row(
                str(token.id), token.user.email, token.name, token_state(token), f"{token.created_at:%Y-%m-%d}",
                f"{token.expires_at:%Y-%m-%d}" if token.expires_at else "never",
                f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never",
            )
    console.print(table)


@tokens_app.command("revoke")
def tokens_revoke(token_id: Annotated[int, typer.Argument(help="The id shown by `tokens list`")]) -> None:
    """Revoke a token: from now on it is refused."""
    from peerdigest.auth import revoke_token
    from peerdigest.db.session import session_scope

    settings = _settings()
    with session_scope(settings.database_url) as session:
        if revoke_token(session, token_id) is None:
            err.print(f"[red]No token {token_id}.[/red]")
            raise typer.Exit(1)
    console.print(f"Token {token_id} revoked.")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
