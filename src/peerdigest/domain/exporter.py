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
from peerdigest.domain.insights import LABELS, Insights, Rules, analyse, rating_sheet
from peerdigest.i18n import N_, _, ngettext
from peerdigest.domain.summaries import stored_summaries


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


def class_summaries(
    session: Session, evaluation: Evaluation, insights: Insights | None = None, copy: ExportCopy = ExportCopy.teacher
) -> list[StudentSummary]:
    """Every student who takes part in the evaluation, by team and name, with their summary if there is one
    (in the student copy: if it is released) and with their factor and labels when `insights` is given."""
    allocations = session.scalars(
        select(Allocation).where(Allocation.evaluation_id == evaluation.id).order_by(Allocation.id)
    ).all()
    teams: dict[int, str | None] = {}
    for allocation in allocations:
        for user_id in (allocation.reviewee_id, allocation.reviewer_id):
            if teams.get(user_id) is None:
                teams[user_id] = allocation.team
    students = session.scalars(select(User).where(User.id.in_(list(teams)))).all()
    summaries = stored_summaries(session, evaluation.id)
    rows = []
    for student in sorted(students, key=lambda u: (teams[u.id] or "", u.name.lower(), u.id)):
        summary = summaries.get(student.id)
        released = release.released(evaluation, summary)
        if copy == ExportCopy.student and not released:
            summary = None
        insight = insights.student(student.id) if insights is not None else None
        rows.append(
            StudentSummary(
                student_id=student.id,
                student_name=student.name,
                student_email=student.email,
                team=teams[student.id],
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


def export(
    session: Session,
    evaluation: Evaluation,
    fmt: ExportFormat,
    copy: ExportCopy,
    rules: Rules,
    delimiter: str | None = None,
    notice: ScreenNotice | None = None,
) -> str:
    """The class's summaries in `fmt`; the teacher's copy adds each student's factor and labels.

    `delimiter` is the CSV's cell separator; None: ";" for a Dutch evaluation, else ",". `notice`
    is a warning the html shows on screen above the sheets, never on paper (the print view's).
    """
    teacher = copy == ExportCopy.teacher
    insights = analyse(rating_sheet(session, evaluation.id), rules) if teacher else None
    rows = class_summaries(session, evaluation, insights, copy)
    if fmt == ExportFormat.csv:
        return to_csv(rows, teacher, delimiter or DEFAULT_DELIMITER.get(evaluation.language, ","))
    if fmt == ExportFormat.json:
        return to_json(evaluation, rows, teacher)
    if fmt == ExportFormat.html:
        return to_html(evaluation, rows, teacher, notice)
    return to_markdown(evaluation, rows, teacher)


def filename(evaluation: Evaluation, fmt: ExportFormat) -> str:
    return f"evaluation-{evaluation.id}-summaries.{fmt.value}"


def neutralize(cell: str) -> str:
    """A cell a spreadsheet shows as the text it is instead of running it as a formula."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def to_csv(rows: list[StudentSummary], teacher: bool = False, delimiter: str = ",") -> str:
    if delimiter not in CSV_DELIMITERS:
        raise ValueError(f"CSV delimiter must be one of {CSV_DELIMITERS}, not {delimiter!r}")
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(
        ["student_id", "student_name", "student_email", "team", "summary", "method", "feedback_count", "generated_at", "stale"]
        + (["released", "factor", "labels"] if teacher else [])
    )
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
    # The BOM makes Excel read the file as UTF-8 instead of the system code page.
    return "\ufeff" + out.getvalue()


def to_json(evaluation: Evaluation, rows: list[StudentSummary], teacher: bool = False) -> str:
    hidden = () if teacher else ("factor", "labels", "released")
    students = [
        {k: v for k, v in asdict(row).items() if k not in hidden} | {"generated_at": _iso(row.generated_at) or None}
        for row in rows
    ]
    return json.dumps(
        {
            "evaluation_id": evaluation.id,
            "title": evaluation.title,
            "language": evaluation.language,
            "exported_at": _iso(utcnow()),
            "students": students,
        },
        ensure_ascii=False,
        indent=2,
    )


def to_markdown(evaluation: Evaluation, rows: list[StudentSummary], teacher: bool = False) -> str:
    """One section per student, each on its own printed page, to hand out in class (the student copy)
    or to keep (the teacher's copy, with factor and labels under each name); in the evaluation's language,
    its dates on the school's clock."""
    zone = evaluation.school.time_zone
    with i18n.use_language(evaluation.language):
        parts = [
            f"# {_text(evaluation.title)}",
            " · ".join([_("Feedback from your teammates"), ngettext("%(num)s student", "%(num)s students", len(rows)),
                        _("exported %(date)s", date=i18n.format_date(utcnow(), zone))]),
        ]
        for index, row in enumerate(rows):
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
            if index > 0:
                # Markdown has no page break; this HTML one is honoured by browsers and Markdown-to-PDF tools.
                parts.append('<div style="page-break-before: always"></div>')
            parts.append("\n\n".join(section))
        return "\n\n".join(parts) + "\n"


def _text(value: str) -> str:
    # Markdown passes HTML through: a name, title or summary is shown as the text it is, never run as markup.
    return html.escape(value, quote=False)


def to_html(
    evaluation: Evaluation, rows: list[StudentSummary], teacher: bool = False, notice: ScreenNotice | None = None
) -> str:
    """A page per student that prints cleanly from a browser: the print view and the downloadable file alike;
    in the evaluation's language, its dates on the school's clock."""
    with i18n.use_language(evaluation.language):
        return _print_template().render(
            evaluation=evaluation,
            school=evaluation.school.name,
            rows=rows,
            teacher=teacher,
            language=evaluation.language,
            time_zone=evaluation.school.time_zone,
            label_names=label_names,
            method_name=method_name,
            notice=notice,
        )


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
