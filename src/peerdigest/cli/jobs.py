"""`peerdigest jobs`: follow, cancel, retry and recover summary jobs (the database of record)."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.table import Table

from peerdigest.cli.common import (
    console,
    err,
    queue_connection,
    redis_or_exit,
    settings_or_exit,
    setup_logging,
)
from peerdigest.db.models import MAX_ID, JobStatus

jobs_app = typer.Typer(help="Follow, cancel and retry summary jobs (the database of record).", no_args_is_help=True)


@jobs_app.command("list")
def jobs_list(
    evaluation: Annotated[int | None, typer.Option(min=1, max=MAX_ID, help="Only the jobs of this evaluation")] = None,
    status: Annotated[JobStatus | None, typer.Option(help="Only jobs in this status")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many, newest first")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="A JSON list of the jobs, for programs")] = False,
) -> None:
    """Jobs, newest first: a table on a terminal, tab-separated lines in a pipe, or JSON."""
    from peerdigest.db.session import session_scope
    from peerdigest.queue.jobs import list_jobs

    settings = settings_or_exit()
    with session_scope(settings.database_url) as session:
        jobs = list_jobs(session, evaluation_id=evaluation, status=status, limit=limit)
    if as_json:
        sys.stdout.write(json.dumps([_as_json(job) for job in jobs], indent=2) + "\n")
        return
    if not jobs:
        console.print("No jobs.")
        return
    if not console.is_terminal:
        # A pipe has no width: every cell whole, one job a line, for grep, cut and spreadsheets.
        sys.stdout.write("\t".join(("job", "status", "priority", "attempts", "created", "error")) + "\n")
        for job in jobs:
            cells = (job.job_id, job.status + (" (cached)" if job.cached else ""), job.priority,
                     f"{job.attempts}/{job.max_retries + 1}", job.created_at.isoformat(), job.error_message or "")
            sys.stdout.write("\t".join(" ".join(cell.split()) for cell in cells) + "\n")
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
            f"{job.attempts}/{job.max_retries + 1}", f"{job.created_at:%m-%d %H:%M:%S}", job.error_message or "",
        )
    console.print(table)


def _as_json(job) -> dict:
    when = {name: getattr(job, name) for name in ("created_at", "started_at", "completed_at", "cancelled_at", "updated_at")}
    return {
        "job_id": job.job_id, "evaluation_id": job.evaluation_id, "student_id": job.student_id,
        "status": job.status, "cached": job.cached, "priority": job.priority, "progress": job.progress,
        "attempts": job.attempts, "max_retries": job.max_retries,
        **{name: value.isoformat() if value else None for name, value in when.items()},
        "error": job.error_message,
    }


@jobs_app.command("show")
def jobs_show(job_id: Annotated[str, typer.Argument(help="The job id, e.g. summary-56-19-0a1b2c3d4e5f")]) -> None:
    """Everything the database knows about one job."""
    from peerdigest.db.session import session_scope
    from peerdigest.queue.jobs import find

    settings = settings_or_exit()
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
        "worker": job.worker_name, "webhook": job.webhook_url, "error": job.error_message,
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

    settings = settings_or_exit()
    redis = queue_connection(settings)
    with session_scope(settings.database_url) as session:
        try:
            cancel(session, redis, settings, job_id, by_id=None)
        except CannotCancel as exc:
            err.print(f"[red]{exc}[/red]")
            raise typer.Exit(1) from None
    console.print(f"Job {job_id} cancelled.")


@jobs_app.command("retry")
def jobs_retry(job_id: Annotated[str, typer.Argument(help="A failed or cancelled job")]) -> None:
    """Queue a new job for the student of a failed or cancelled one, with the same options."""
    from peerdigest.db.session import session_scope
    from peerdigest.queue.enqueue import NotRetryable, retry_job

    settings = settings_or_exit()
    redis = queue_connection(settings)
    with session_scope(settings.database_url) as session:
        try:
            accepted = retry_job(session, redis, settings, job_id)
        except NotRetryable as exc:
            err.print(f"[red]{exc}[/red]")
            raise typer.Exit(1) from None
        new = accepted.job
        if accepted.already_queued:
            console.print(f"The student already has an open job: {new.job_id} ({new.status}).")
        elif new.cached or accepted.reused:
            console.print(f"Job {new.job_id} completed at once from the stored summary (feedback unchanged).")
        else:
            console.print(f"Job {new.job_id} queued ({new.priority} priority).")


@jobs_app.command("recover")
def jobs_recover() -> None:
    """Bring Redis in line with the database now: queue what Redis lost, run again what a dead worker left."""
    from peerdigest.queue.reconcile import LOCK_TTL, reconcile

    settings = settings_or_exit()
    setup_logging("WARNING")
    redis, _ = redis_or_exit(settings)
    report = reconcile(settings, redis, wait=LOCK_TTL)
    if report.skipped:
        err.print(f"Nothing done: {report.skipped}.")
        raise typer.Exit(1)
    table = Table("repair", "jobs")
    for name, count in report.counts().items():
        table.add_row(name.replace("_", " "), str(count))
    console.print(table)
    console.print(f"Checked {report.checked} open job(s); {report.repairs} repaired.")
