"""A school's own data: import, export, and the preview of one summary."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from peerdigest.cli.app import app
from peerdigest.cli.common import console, err, settings_or_exit
from peerdigest.config import Language
from peerdigest.db.models import MAX_ID
from peerdigest.domain.exporter import CSV_DELIMITERS, ExportCopy, ExportFormat
from peerdigest.domain.importer import Encoding

if TYPE_CHECKING:  # imported lazily: the summarizers load the LLM client, which takes a second
    from peerdigest.summarize.preview import Preview


@app.command()
def preview(
    evaluation: Annotated[int, typer.Option(min=1, max=MAX_ID, help="The evaluation")],
    student: Annotated[int, typer.Option(min=1, max=MAX_ID, help="The student whose received feedback to summarize")],
    show_prompt: Annotated[bool, typer.Option("--show-prompt", help="Also print the instructions sent")] = False,
) -> None:
    """Show what would be sent to the LLM for one student and what comes back; stores nothing."""
    from peerdigest.db.session import session_scope
    from peerdigest.domain.feedback import FeedbackError, anonymize, collect
    from peerdigest.summarize.preview import preview as run_preview

    settings = settings_or_exit()
    try:
        with session_scope(settings.database_url) as session:
            received = anonymize(collect(session, evaluation, student))
    except FeedbackError as exc:
        err.print(f"[red]{exc}.[/red]")
        raise typer.Exit(1) from exc
    _show_preview(run_preview(settings, received), show_prompt=show_prompt)


def _show_preview(shown: Preview, *, show_prompt: bool) -> None:
    received = shown.received
    console.print(
        f"Evaluation {received.evaluation_id}, student {received.student_id} ({received.language}): "
        f"{received.reviewer_count} reviewer(s), {len(received.comments)} comment(s)."
    )
    if shown.screened.removed:
        console.print(Panel(Text("\n".join(shown.screened.removed)), expand=False,
                            title="Left out of the comments: orders to the model or hidden text"))
    if show_prompt:
        console.print(Panel(Text(shown.prompt.instructions), title=f"Instructions (prompt version {shown.prompt.version})"))
    sent = shown.prompt.messages[1]["content"]
    if shown.llm_base_url:
        console.print(Panel(Text(sent), title=f"Sent to {shown.llm_base_url} as data"))
    else:
        console.print("LLM_BASE_URL is not set: nothing is sent anywhere; the builtin summarizer writes the summary. "
                      "This is the data an LLM would get:")
        console.print(Panel(Text(sent), title="Data"))
    for number, attempt in enumerate(shown.attempts, start=1):
        if attempt.error:
            console.print(f"[red]Request {number} failed:[/red] {attempt.error}")
            continue
        verdict = "accepted" if attempt.verdict.accepted else f"rejected: {attempt.verdict.reason}"
        style = "green" if attempt.verdict.accepted else "red"
        console.print(Panel(Text(attempt.answer or ""), title=f"Answer {number}", subtitle=verdict, border_style=style))
    summary = shown.summary
    details = [f"method {summary.generation_method}", f"{summary.duration_ms} ms"]
    if summary.model:
        details.insert(1, f"model {summary.model}, prompt version {summary.prompt_version}")
    console.print(Panel(Text(summary.summary_text), title="Summary", subtitle=", ".join(details)))
    if summary.fallback_reason:
        console.print(f"Fell back to the builtin summarizer: {summary.fallback_reason}")


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV (`,` or `;`), JSON list or JSON Lines")],
    school: Annotated[str, typer.Option(help="School name; created when missing")],
    evaluation: Annotated[str, typer.Option(help="Evaluation title; created when missing")],
    language: Annotated[Language | None, typer.Option(help="Language of the evaluation (default: unchanged, or SUMMARY_LANGUAGE when new)")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check the file and show what would change; write nothing")] = False,
    map_: Annotated[list[str] | None, typer.Option("--map", help="COLUMN=FIELD for a column of another name, e.g. \"Cijfer=score\"; repeat it for more")] = None,
    encoding: Annotated[Encoding | None, typer.Option(help="The file's encoding (default: UTF-8 when it is, else windows-1252)")] = None,
    teacher: Annotated[str | None, typer.Option(help="Email of the school's teacher, made a teacher of the school with the import (so they can sign in)")] = None,
    teacher_name: Annotated[str | None, typer.Option(help="The teacher's name (default: theirs when they exist, else made from the email)")] = None,
) -> None:
    """Import peer feedback from a file: all of it, or nothing and a list of every problem."""
    from rich.progress import Progress

    from peerdigest.db.models import Role
    from peerdigest.db.session import discard_writes, session_scope
    from peerdigest.domain.importer import column_map_from, import_file
    from peerdigest.domain.users import PromotionUnconfirmed, UserError, add_user

    settings = settings_or_exit()
    try:
        column_map = column_map_from(map_ or [])
    except ValueError as exc:
        err.print(f"--map: {exc}", markup=False)
        raise typer.Exit(2) from None
    with Progress(console=err, transient=True) as bar, session_scope(settings.database_url) as session:
        task = bar.add_task(f"Importing {file.name}", total=None)
        report = import_file(
            session, file, school=school, evaluation=evaluation, language=language,
            default_language=settings.summary_language, max_bytes=settings.import_max_bytes,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
            encoding=encoding, column_map=column_map,
        )
        added = None
        if report.ok and teacher:
            # In the import's transaction: a teacher that cannot be added leaves the file unimported too.
            try:
                added = add_user(session, email=teacher, name=teacher_name, school=school, role=Role.teacher)
            except UserError as exc:  # the Exit below leaves the command's unit of work: nothing is kept
                how = (f" (`peerdigest users add {teacher} --name NAME --school \"{school}\" --promote` does it)"
                       if isinstance(exc, PromotionUnconfirmed) else "")
                err.print(f"--teacher: {exc}{how} Nothing was imported.", style="red", markup=False, soft_wrap=True)
                raise typer.Exit(1) from None
            teacher_line = f"{added.user.name} <{added.user.email}> is a teacher of {school}: they can sign in now."
        if dry_run or not report.ok:
            discard_writes(session)
        else:
            bar.update(task, description=f"Saving {file.name}")
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
        if added is not None:
            console.print(teacher_line, markup=False, soft_wrap=True)


@app.command()
def export(
    evaluation: Annotated[int, typer.Option(min=1, max=MAX_ID, help="Evaluation id")],
    format: Annotated[
        ExportFormat, typer.Option(help="csv, json, md (printable Markdown) or html (printable, a page per student)")
    ] = ExportFormat.csv,
    output: Annotated[Path | None, typer.Option(help="Write to this file instead of standard output")] = None,
    copy: Annotated[
        ExportCopy, typer.Option(help="teacher: with contribution factor and labels; student: without, to hand out")
    ] = ExportCopy.teacher,
    delimiter: Annotated[
        str | None, typer.Option(help="CSV cell separator, , or ; (default: ; for a Dutch evaluation, else ,)")
    ] = None,
) -> None:
    """Every student of an evaluation with their summary, method, feedback count and date."""
    from peerdigest.db.models import Evaluation
    from peerdigest.db.session import session_factory, session_scope
    from peerdigest.domain.exporter import class_list
    from peerdigest.domain.exporter import export as export_summaries
    from peerdigest.domain.insights import Rules

    settings = settings_or_exit()
    with session_scope(settings.database_url) as session:
        found = session.get(Evaluation, evaluation)
        if found is None:
            err.print(f"[red]No evaluation {evaluation}.[/red]")
            raise typer.Exit(1)
        if delimiter not in (None, *CSV_DELIMITERS):
            err.print(f"[red]--delimiter must be , or ;, not {delimiter!r}.[/red]")
            raise typer.Exit(2)
        listed = class_list(session, found, copy)
    pieces = export_summaries(
        listed, session_factory(settings.database_url), format, Rules.from_settings(settings), delimiter
    )
    if output is None:
        sys.stdout.writelines(pieces)
    else:
        with output.open("w", encoding="utf-8", newline="") as file:
            file.writelines(pieces)
        err.print(f"Wrote {output}.")
