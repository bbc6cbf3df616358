"""Take the summaries back out: every student of an evaluation as CSV, JSON, or printable Markdown or HTML.

The teacher's copy carries each student's contribution factor and labels (docs/INSIGHTS.md) and
every summary, approved or not; the student copy, to hand out, never carries factor or labels and
holds only the summaries released to their student (domain/release.py).
"""

from __future__ import annotations

import csv
import html
import io
import json
import logging
import textwrap
from collections.abc import Callable, Generator, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum
from functools import cache

from jinja2 import Environment, PackageLoader
from sqlalchemy import select
from sqlalchemy.orm import Session

from peerdigest import i18n
from peerdigest.db.models import Allocation, Evaluation, User, utcnow
from peerdigest.domain import release
from peerdigest.domain.insights import LABELS, Roster, Rules, analyse, rating_sheet
from peerdigest.i18n import N_, _, ngettext
from peerdigest.domain.summaries import stored_summaries


log = logging.getLogger(__name__)


class ExportCopy(StrEnum):
    teacher = "teacher"  # with factor and labels
    student = "student"  # without: to hand out


class ExportFormat(StrEnum):
    csv = "csv"
    json = "json"
    md = "md"
    html = "html"


MEDIA_TYPES = {
    ExportFormat.csv: "text/csv; charset=utf-8",
    ExportFormat.json: "application/json",
    ExportFormat.md: "text/markdown; charset=utf-8",
    ExportFormat.html: "text/html; charset=utf-8",
}

# Dutch spreadsheets read "," as the decimal separator and expect ";" between cells.
CSV_DELIMITERS = (",", ";")
DEFAULT_DELIMITER = {"nl": ";"}

# Spreadsheets run a cell starting with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class StudentSummary:
    # One row of an export; the field names are its columns (JSON keys, CSV header), which the
    # export's readers depend on: `summary` is the summary_text, `method` the generation_method.
    student_id: int
    student_name: str
    student_email: str
    team: str | None
    summary: str | None  # None: no summary written yet
    method: str | None
    feedback_count: int | None
    generated_at: datetime | None
    stale: bool
    released: bool = False  # the student may read it; in the student copy an unreleased summary is left out
    factor: float | None = None  # teacher's copy only
    labels: tuple[str, ...] = ()  # teacher's copy only


@dataclass(frozen=True)
class ScreenNotice:
    """A warning the html shows on screen above the sheets and never prints, with a link to act on it."""

    text: str
    link: str
    link_text: str


# Students read, rendered and sent per batch: an export's memory and its hold on the database stay the
# size of a batch whatever the class's size (only the class list, ids and names, is whole).
BATCH_STUDENTS = 200


@dataclass(frozen=True)
class ClassList:
    """Who an export lists, in order (by team, then name), read once before the first row is written."""

    evaluation: Evaluation  # with its school loaded: the batches read it after its session is gone
    copy: ExportCopy
    students: tuple[int, ...]
    teams: dict[int, str | None]  # student id → the team the export shows
    roster: Roster  # the teams insights group students in (the teacher's copy's factors are per team)

    @property
    def teacher(self) -> bool:
        return self.copy == ExportCopy.teacher


def class_list(session: Session, evaluation: Evaluation, copy: ExportCopy = ExportCopy.teacher) -> ClassList:
    """Every student who takes part in the evaluation: ids, teams and names only, in the export's order."""
    evaluation.school  # noqa: B018 (loaded now, while there is a session)
    teams: dict[int, str | None] = {}
    allocations = session.execute(
        select(Allocation.reviewer_id, Allocation.reviewee_id, Allocation.team)
        .where(Allocation.evaluation_id == evaluation.id)
        .order_by(Allocation.id)
    ).all()
    for allocation in allocations:
        for user_id in (allocation.reviewee_id, allocation.reviewer_id):
            if teams.get(user_id) is None:
                teams[user_id] = allocation.team
    in_class = select(Allocation.reviewer_id).where(Allocation.evaluation_id == evaluation.id).union(
        select(Allocation.reviewee_id).where(Allocation.evaluation_id == evaluation.id)
    )
    names = session.execute(select(User.id, User.name).where(User.id.in_(in_class))).all()
    order = sorted(names, key=lambda user: (teams[user.id] or "", user.name.lower(), user.id))
    return ClassList(evaluation, copy, tuple(user.id for user in order), teams, Roster.of(allocations))


def class_summaries(session: Session, listed: ClassList, students: tuple[int, ...], rules: Rules) -> list[StudentSummary]:
    """The rows of `students` (a part of `listed.students`, in its order), each with their summary if there is
    one (in the student copy: if it is released) and, in the teacher's copy, with their factor and labels."""
    evaluation = listed.evaluation
    users = {user.id: user for user in session.scalars(select(User).where(User.id.in_(students)))}
    summaries = stored_summaries(session, evaluation.id, students)
    insights = None
    if listed.teacher:
        # A factor compares a student with their whole team: read the teams of this batch whole.
        wanted = {listed.roster.teams[s] for s in students if s in listed.roster.teams}
        insights = analyse(rating_sheet(session, evaluation.id, listed.roster.of_teams(wanted)), rules)
    rows = []
    for student_id in students:
        student = users.get(student_id)
        if student is None:
            continue  # removed since the class list was read
        summary = summaries.get(student_id)
        released = release.released(evaluation, summary)
        if listed.copy == ExportCopy.student and not released:
            summary = None
        insight = insights.student(student_id) if insights is not None else None
        rows.append(
            StudentSummary(
                student_id=student_id,
                student_name=student.name,
                student_email=student.email,
                team=listed.teams[student_id],
                summary=summary.summary_text if summary else None,
                method=summary.generation_method if summary else None,
                feedback_count=summary.feedback_count if summary else None,
                generated_at=summary.written_at if summary else None,
                stale=summary.stale if summary else False,
                released=released,
                factor=insight.factor if insight else None,
                labels=tuple(label.code for label in insight.labels) if insight else (),
            )
        )
    return rows


def batches(
    listed: ClassList, sessions: Callable[[], Session], rules: Rules, size: int = BATCH_STUDENTS
) -> Iterator[list[StudentSummary]]:
    """The class's rows, `size` students at a time, each batch read in a short session of its own: between
    batches (while a slow client downloads) the export holds no database connection, and an export that is
    no longer iterated reads nothing more. A summary written meanwhile shows as it is when its batch is read."""
    for start in range(0, len(listed.students), size):
        with sessions() as session:
            rows = class_summaries(session, listed, listed.students[start : start + size], rules)
        yield rows


def export(
    listed: ClassList,
    sessions: Callable[[], Session],
    fmt: ExportFormat,
    rules: Rules,
    delimiter: str | None = None,
    notice: ScreenNotice | None = None,
    size: int = BATCH_STUDENTS,
) -> Iterator[str]:
    """The class's summaries in `fmt`, a piece per batch of students as they are read (see `batches`); the
    teacher's copy adds each student's factor and labels.

    `delimiter` is the CSV's cell separator; None: ";" for a Dutch evaluation, else ",". `notice`
    is a warning the html shows on screen above the sheets, never on paper (the print view's).
    """
    evaluation = listed.evaluation
    if fmt == ExportFormat.csv:
        pieces = csv_pieces(listed.teacher, delimiter or DEFAULT_DELIMITER.get(evaluation.language, ","))
    elif fmt == ExportFormat.json:
        pieces = json_pieces(evaluation, listed.teacher)
    elif fmt == ExportFormat.html:
        pieces = html_pieces(evaluation, len(listed.students), listed.teacher, notice)
    else:
        pieces = markdown_pieces(evaluation, len(listed.students), listed.teacher)

    def piece(rows: list[StudentSummary] | None) -> str:
        # The language is set around each piece, never across a yield: the pieces are written in whichever
        # thread and context asks for the next one (a context variable set before a yield would leak into it).
        with i18n.use_language(evaluation.language):
            return pieces.send(rows)

    yield piece(None)  # the heading
    sent = 0
    try:
        for rows in batches(listed, sessions, rules, size):
            yield piece(rows)
            sent += len(rows)
    except GeneratorExit:  # closed before its end: the client went away (api/streaming.py)
        log.info("Export of evaluation %s stopped after %s of %s students: nobody reads it any more.",
                 evaluation.id, sent, len(listed.students))
        raise
    yield piece(None)  # the ending


def filename(evaluation: Evaluation, fmt: ExportFormat) -> str:
    return f"evaluation-{evaluation.id}-summaries.{fmt.value}"


def neutralize(cell: str) -> str:
    """A cell a spreadsheet shows as the text it is instead of running it as a formula."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


# Each writer below is a coroutine generator: it yields the heading, then receives a batch of rows at a
# time (`send`) and yields their text, and on None yields the ending.
Pieces = Generator[str, list[StudentSummary] | None, None]


def csv_pieces(teacher: bool = False, delimiter: str = ",") -> Pieces:
    if delimiter not in CSV_DELIMITERS:
        raise ValueError(f"CSV delimiter must be one of {CSV_DELIMITERS}, not {delimiter!r}")
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(
        ["student_id", "student_name", "student_email", "team", "summary", "method", "feedback_count", "generated_at", "stale"]
        + (["released", "factor", "labels"] if teacher else [])
    )
    # The BOM makes Excel read the file as UTF-8 instead of the system code page.
    rows = yield "\ufeff" + _taken(out)
    while rows is not None:
        for row in rows:
            writer.writerow(
                [
                    row.student_id,
                    *(neutralize(cell or "") for cell in (row.student_name, row.student_email, row.team, row.summary)),
                    row.method or "",
                    "" if row.feedback_count is None else row.feedback_count,
                    _iso(row.generated_at),
                    "true" if row.stale else "false",
                ]
                + (
                    ["true" if row.released else "false", "" if row.factor is None else row.factor, " ".join(row.labels)]
                    if teacher
                    else []
                )
            )
        rows = yield _taken(out)
    yield ""


def _taken(out: io.StringIO) -> str:
    """What was written to `out` since the last time, which is emptied."""
    text = out.getvalue()
    out.seek(0)
    out.truncate()
    return text


def json_pieces(evaluation: Evaluation, teacher: bool = False) -> Pieces:
    hidden = () if teacher else ("factor", "labels", "released")
    heading = json.dumps(
        {
            "evaluation_id": evaluation.id,
            "title": evaluation.title,
            "language": evaluation.language,
            "exported_at": _iso(utcnow()),
        },
        ensure_ascii=False,
        indent=2,
    )
    rows = yield heading.removesuffix("\n}") + ',\n  "students": ['
    written = 0
    while rows is not None:
        students = []
        for row in rows:
            student = {k: v for k, v in asdict(row).items() if k not in hidden} | {"generated_at": _iso(row.generated_at) or None}
            text = textwrap.indent(json.dumps(student, ensure_ascii=False, indent=2), "    ")
            students.append(("\n" if written == 0 else ",\n") + text)
            written += 1
        rows = yield "".join(students)
    yield ("\n  ]" if written else "]") + "\n}"


def markdown_pieces(evaluation: Evaluation, count: int, teacher: bool = False) -> Pieces:
    """One section per student, each on its own printed page, to hand out in class (the student copy)
    or to keep (the teacher's copy, with factor and labels under each name); in the evaluation's language,
    its dates on the school's clock."""
    zone = evaluation.school.time_zone
    rows = yield "\n\n".join([
        f"# {_text(evaluation.title)}",
        " · ".join([_("Feedback from your teammates"), ngettext("%(num)s student", "%(num)s students", count),
                    _("exported %(date)s", date=i18n.format_date(utcnow(), zone))]),
    ])
    written = 0
    while rows is not None:
        parts = []
        for row in rows:
            team = f" ({_text(row.team)})" if row.team else ""
            text = _text(row.summary.strip()) if row.summary else f"_{_('No summary yet.')}_"
            section = [f"## {_text(row.student_name)}{team}", text]
            if row.summary is not None:
                section.append("_" + " · ".join([
                    method_name(row.method),
                    ngettext("%(num)s comment", "%(num)s comments", row.feedback_count or 0),
                    _("written %(date)s", date=i18n.format_date(row.generated_at, zone)),
                ]) + "_")
            if row.stale:
                section.append(f"> {_('Feedback was added or changed after this summary was written.')}")
            if teacher and row.summary is not None and not row.released:
                section.append(f"> {_('Not released yet: the teacher reads this summary first.')}")
            if teacher and row.factor is not None:
                signals = f" · {_('labels')}: {_text(', '.join(label_names(row.labels)))}" if row.labels else ""
                factor = _("factor %(factor)s", factor=i18n.format_number(row.factor, 2, fixed=True))
                section.insert(1, f"**{factor}**{signals}")
            # Markdown has no page break; this HTML one is honoured by browsers and Markdown-to-PDF tools.
            # The heading is no page of its own: the first student's section follows it on the first page.
            parts.append("\n\n" + ('<div style="page-break-before: always"></div>\n\n' if written else ""))
            parts.append("\n\n".join(section))
            written += 1
        rows = yield "".join(parts)
    yield "\n"


def _text(value: str) -> str:
    # Markdown passes HTML through: a name, title or summary is shown as the text it is, never run as markup.
    return html.escape(value, quote=False)


def html_pieces(
    evaluation: Evaluation, count: int, teacher: bool = False, notice: ScreenNotice | None = None
) -> Pieces:
    """A page per student that prints cleanly from a browser: the print view and the downloadable file alike;
    in the evaluation's language, its dates on the school's clock."""
    page = _print_template().make_module(dict(
        evaluation=evaluation,
        school=evaluation.school.name,
        count=count,
        teacher=teacher,
        language=evaluation.language,
        time_zone=evaluation.school.time_zone,
        label_names=label_names,
        method_name=method_name,
        notice=notice,
    ))
    rows = yield str(page.opening())
    while rows is not None:
        rows = yield "".join(str(page.sheet(row)) for row in rows)
    yield str(page.ending())


def label_names(codes: tuple[str, ...]) -> list[str]:
    """The labels as words in the current language (`low_performer` → "low performer")."""
    return [i18n.translate(LABELS[code].name) if code in LABELS else code for code in codes]


# How a summary was written, as a reader names it (translated where shown).
METHODS = {"ai": N_("ai"), "builtin": N_("builtin"), "fallback": N_("fallback"), "empty": N_("empty")}


def method_name(method: str | None) -> str:
    return i18n.translate(METHODS.get(method, method or ""))


@cache
def _print_template():
    environment = Environment(loader=PackageLoader("peerdigest.domain", "templates"), autoescape=True)
    i18n.install(environment)
    return environment.get_template("print.html")


def _iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment is not None else ""
