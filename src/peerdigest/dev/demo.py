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

from peerdigest.config import Settings
from peerdigest.db.models import JobStatus, SummaryJob, User
from peerdigest.db.session import session_scope
from peerdigest.dev.devserver import Supervisor, prepare
from peerdigest.dev.embedded_redis import resolve
from peerdigest.dev.seed import DemoSchoolConflict
from peerdigest.domain.feedback import evaluation_students
from peerdigest.domain.summaries import stored_summary
from peerdigest.queue.connection import connect, describe
from peerdigest.queue.enqueue import request_class
from peerdigest.summarize.provider import configured

TIMEOUT = 300  # seconds for the whole class; the builtin summarizer needs well under one


DEMO_EVALUATION = 56  # the Dutch evaluation of the demo school, as documented


def run_demo(settings: Settings, evaluation_id: int | None, console: Console) -> int:
    """Summarize every student of `evaluation_id` (default: the demo school's Dutch evaluation)."""
    console.print(f"[bold]peerdigest demo[/bold]: database {settings.database_url}")
    try:
        school = prepare(settings)
    except DemoSchoolConflict as exc:
        console.print(f"[yellow]{exc}[/yellow]")
        if evaluation_id is None:
            return 1
    else:
        if school.moved:
            console.print(f"[yellow]{school.describe_moved()}[/yellow]")
        evaluation_id = evaluation_id or school.evaluations.get(DEMO_EVALUATION)
    with session_scope(settings.database_url) as session:
        students = evaluation_students(session, evaluation_id) if evaluation_id else []
    if not students:
        console.print(f"[red]Evaluation {evaluation_id} has no students to summarize.[/red] "
                      "Pass `--evaluation ID` of an evaluation with feedback (`peerdigest import` loads one).")
        return 1
    url, embedded = resolve(settings)
    console.print(f"Redis: {describe(url)}" + (" (embedded, started for this demo)" if embedded else ""))
    console.print("Summarizer: " + (f"LLM at {settings.llm_base_url}" if configured(settings) else "builtin (no network)"))
    log_file = settings.data_dir / "demo-worker.log"
    worker = Supervisor(settings, url, log_file=log_file)
    worker.start("worker", ["worker"])
    try:
        job_ids = _queue_class(settings, url, evaluation_id, students)
        done = _follow(settings, job_ids, console)
        _print_summaries(settings, job_ids, console)
    finally:
        worker.stop(timeout=30)
        if embedded:
            embedded.stop()
    failed = len(job_ids) - done
    if failed:
        console.print(f"[red]{failed} job(s) did not complete; see {log_file}.[/red]")
        return 1
    console.print(f"[green]All {done} summaries written.[/green] Worker log: {log_file}")
    return 0


def _queue_class(settings: Settings, url: str, evaluation_id: int, students: list[int]) -> list[str]:
    redis = connect(url)
    with session_scope(settings.database_url) as session:
        teacher = session.scalar(select(User).where(User.email == "docent@example.com"))
        queued = request_class(
            session, redis, settings, evaluation_id=evaluation_id, student_ids=students,
            requested_by_id=teacher.id if teacher else None,
        )
        return [accepted.job.job_id for _, accepted in queued]


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
            summary = stored_summary(session, job.evaluation_id, job.student_id)
            completed = summary and job.status == JobStatus.completed
            body = summary.summary_text if completed else f"[red]{job.status}: {job.error_message}"
            generation_method = summary.generation_method if summary else "-"
            title = f"{student.name} (student {student.id})"
            console.print(Panel(body, title=title, subtitle=generation_method, expand=False))
