"""`make demo`: the main job end to end on embedded defaults, with a progress bar."""

from __future__ import annotations

import time

from rich.console import Console
from rich.panel import Panel
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from sqlalchemy import select

from peerdigest.api.deps import evaluation_students
from peerdigest.config import Settings
from peerdigest.db.models import FeedbackSummary, JobStatus, SummaryJob, User
from peerdigest.db.session import session_scope
from peerdigest.dev.devserver import prepare, spawn, stop_all
from peerdigest.dev.embedded_redis import resolve
from peerdigest.queue.connection import connect, describe
from peerdigest.queue.enqueue import request_summary

TIMEOUT = 300  # seconds for the whole class; the builtin summarizer needs well under one


def run_demo(settings: Settings, evaluation_id: int, console: Console) -> int:
    console.print(f"[bold]peerdigest demo[/bold]: database {settings.database_url}")
    prepare(settings)
    url, embedded = resolve(settings, allow_embedded=True)
    console.print(f"Redis: {describe(url)}" + (" (embedded, started for this demo)" if embedded else ""))
    console.print("Summarizer: " + (f"LLM at {settings.llm_base_url}" if settings.llm_base_url else "builtin (no network)"))
    log_file = settings.data_dir / "demo-worker.log"
    worker = spawn(["worker"], url, settings, log_file=log_file)
    try:
        job_ids = _queue_class(settings, url, evaluation_id)
        done = _follow(settings, job_ids, console)
        _print_summaries(settings, job_ids, console)
    finally:
        stop_all([worker])
        if embedded:
            embedded.stop()
    failed = len(job_ids) - done
    if failed:
        console.print(f"[red]{failed} job(s) did not complete; see {log_file}.[/red]")
        return 1
    console.print(f"[green]All {done} summaries written.[/green] Worker log: {log_file}")
    return 0


def _queue_class(settings: Settings, url: str, evaluation_id: int) -> list[str]:
    redis = connect(url)
    with session_scope(settings.database_url) as session:
        teacher = session.scalar(select(User).where(User.email == "docent@example.com"))
        return [
            request_summary(
                session, redis, settings, evaluation_id=evaluation_id, student_id=student_id,
                requested_by_id=teacher.id if teacher else None,
            ).job.job_id
            for student_id in evaluation_students(session, evaluation_id)
        ]


def _follow(settings: Settings, job_ids: list[str], console: Console) -> int:
    columns = (TextColumn("[bold]summaries"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    deadline = time.monotonic() + TIMEOUT
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("summaries", total=len(job_ids))
        while True:
            with session_scope(settings.database_url) as session:
                statuses = list(session.scalars(select(SummaryJob.status).where(SummaryJob.job_id.in_(job_ids))))
            finished = sum(s not in JobStatus.open() for s in statuses)
            progress.update(task, completed=finished)
            if finished == len(job_ids) or time.monotonic() > deadline:
                return sum(s == JobStatus.completed for s in statuses)
            time.sleep(0.2)


def _print_summaries(settings: Settings, job_ids: list[str], console: Console) -> None:
    with session_scope(settings.database_url) as session:
        jobs = session.scalars(select(SummaryJob).where(SummaryJob.job_id.in_(job_ids)).order_by(SummaryJob.student_id))
        for job in jobs:
            student = session.get(User, job.student_id)
            summary = session.scalar(
                select(FeedbackSummary).where(
                    FeedbackSummary.evaluation_id == job.evaluation_id, FeedbackSummary.student_id == job.student_id
                )
            )
            body = summary.text if summary and job.status == JobStatus.completed else f"[red]{job.status}: {job.error}"
            method = summary.method if summary else "-"
            console.print(Panel(body, title=f"{student.name} (student {student.id})", subtitle=method, expand=False))
