"""Bring your own feedback: load a file of peer feedback into an evaluation.

One row per (reviewer, reviewee, criterion), as CSV (`,` or `;`; UTF-8 with
or without a BOM, or Windows-1252, which Dutch Excel writes: what
spreadsheets export), as an Excel workbook (.xlsx, its first sheet), as a
JSON list of objects, or as JSON Lines, with the fields

    reviewer_email, reviewer_name, reviewee_email, reviewee_name, criterion, score, comment

and optionally `team`, `is_self` (true/false, 1/0, yes/no: a self-assessment) and
`scale` (a criterion's lowest and highest score, like `1-5`, the default).
Columns may also carry their Dutch or English spreadsheet names (`Cijfer`,
`Beoordelaar`, `Reviewer`, ... see ALIASES), or any name mapped by the caller.

Every problem names its line: for CSV and .xlsx the spreadsheet row (the header
is row 1, a cell with a line break inside still one row), for JSON the file's
line. A file of another kind (.ods, .xls, UTF-16, PDF, ...) is named as such
(`domain/tables.py`).
Nothing is ever read leniently: a quote that is never closed is a problem of
its row, never a comment that swallows the rest of the file.

Two steps, so a file can be checked without a database:
- `parse` reads and validates the file on its own and lists every problem
  with its line number;
- `apply` checks it against the database and writes it in the caller's
  transaction, or writes nothing when there is any problem.
`import_file` does both. Importing is an upsert keyed on (reviewer, reviewee,
criterion): the same file twice changes nothing, a corrected file changes
what it corrects, and feedback not in the file is left alone.

Cells are stored exactly as written (a comment starting with `=` stays text);
the CSV export is where formula-like cells are neutralized.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from peerdigest import i18n
from peerdigest.db.models import (
    Allocation,
    Criterion,
    Evaluation,
    Role,
    School,
    Score,
    User,
    utcnow,
)
from peerdigest.domain.evaluations import mark_stale_summaries, put_score
from peerdigest.domain.tables import (
    Encoding,
    Kind,
    Row,
    Unreadable,
    blank,
    column_name,
    csv_rows,
    decoded,
    kind,
    refusal,
    xlsx_rows,
)
from peerdigest.i18n import N_, Message, _

COLUMNS = (
    "reviewer_email",
    "reviewer_name",
    "reviewee_email",
    "reviewee_name",
    "criterion",
    "score",
    "comment",
)
OPTIONAL_COLUMNS = ("team", "is_self", "scale")
DEFAULT_SCALE = (1.0, 5.0)
# Other names spreadsheets give the columns, normalized like every header (lower case, `_` for spaces and dashes).
ALIASES = {
    "reviewer": "reviewer_name",
    "reviewer_e_mail": "reviewer_email",
    "email_reviewer": "reviewer_email",
    "reviewee": "reviewee_name",
    "reviewee_e_mail": "reviewee_email",
    "email_reviewee": "reviewee_email",
    "grade": "score",
    "rating": "score",
    "feedback": "comment",
    "self_assessment": "is_self",
    "beoordelaar": "reviewer_name",
    "naam_beoordelaar": "reviewer_name",
    "e_mail_beoordelaar": "reviewer_email",
    "email_beoordelaar": "reviewer_email",
    "beoordelaar_e_mail": "reviewer_email",
    "beoordelaar_email": "reviewer_email",
    "beoordeelde": "reviewee_name",
    "naam_beoordeelde": "reviewee_name",
    "e_mail_beoordeelde": "reviewee_email",
    "email_beoordeelde": "reviewee_email",
    "beoordeelde_e_mail": "reviewee_email",
    "beoordeelde_email": "reviewee_email",
    "criterium": "criterion",
    "cijfer": "score",
    "score_cijfer": "score",
    "opmerking": "comment",
    "toelichting": "comment",
    "commentaar": "comment",
    "zelfbeoordeling": "is_self",
    "schaal": "scale",
}
# The template file offered on the import page: its header (English field names, or the Dutch ones ALIASES
# knows) and a few example rows, one of them a self-assessment.
TEMPLATE = {
    "en": [["reviewer_email", "reviewer_name", "reviewee_email", "reviewee_name", "team", "criterion", "score",
            "comment", "is_self"]],
    "nl": [["E-mail beoordelaar", "Beoordelaar", "E-mail beoordeelde", "Beoordeelde", "Team", "Criterium", "Cijfer",
            "Opmerking", "Zelfbeoordeling"]],
}
_EXAMPLE = {
    "en": [["Good planning, always on time.", "false"], ["Clear in meetings.", "false"], ["I did my part.", "true"]],
    "nl": [["Goede planning, altijd op tijd.", "nee"], ["Duidelijk in overleg.", "nee"], ["Ik deed mijn deel.", "ja"]],
}


# The longest text each field may hold: the length of the column it is stored in.
LIMITS = {
    "reviewer_email": User.email.type.length,
    "reviewee_email": User.email.type.length,
    "reviewer_name": User.name.type.length,
    "reviewee_name": User.name.type.length,
    "team": Allocation.team.type.length,
    "criterion": Criterion.name.type.length,
}

WRITE_BATCH = 500  # rows written per flush; the progress bar moves once per batch

Scale = tuple[float, float]
Progress = Callable[[int, int], None]  # (rows done, rows in total)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_NUMBER = r"-?\d+(?:[.,]\d+)?"
_SCALE = re.compile(rf"^\s*({_NUMBER})\s*(?:-|–|\.\.|to)\s*({_NUMBER})\s*$")
_BOOLEANS = {
    "true": True, "1": True, "yes": True, "false": False, "0": False, "no": False, "": False,
    "ja": True, "waar": True, "nee": False, "onwaar": False,  # Dutch, as people and Dutch Excel write them
}


@dataclass(frozen=True)
class ImportProblem:
    line: int | None  # None: about the file as a whole
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line is not None else self.message


@dataclass(frozen=True)
class FeedbackRow:
    line: int
    reviewer_email: str
    reviewer_name: str
    reviewee_email: str
    reviewee_name: str
    team: str | None
    criterion: str
    score: float | None
    comment: str | None
    is_self: bool
    scale: Scale | None  # None: the file does not say


@dataclass
class ParsedFile:
    rows: list[FeedbackRow] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)
    scales: dict[str, Scale] = field(default_factory=dict)  # every criterion of the file, in order of appearance
    encoding: Encoding | None = None  # how the file was read

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class ImportReport:
    problems: list[ImportProblem]
    rows: int = 0
    evaluation_id: int | None = None
    evaluation_created: bool = False
    users_created: int = 0
    users_renamed: int = 0
    criteria_created: int = 0
    allocations_created: int = 0
    scores_created: int = 0
    scores_updated: int = 0
    scores_unchanged: int = 0
    summaries_marked_stale: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def changed(self) -> bool:
        return any(
            (self.evaluation_created, self.users_created, self.users_renamed, self.criteria_created,
             self.allocations_created, self.scores_created, self.scores_updated)
        )

    def describe(self) -> str:
        """What the import did, in one line for people, in English (the command line's and the API's)."""
        with i18n.use_language(i18n.SOURCE_LANGUAGE):
            return self.said()

    def said(self) -> str:
        """What the import did, in one line for people, in the current language."""
        if not self.changed:
            return _("%(rows)s rows read; nothing changed (the evaluation already holds this feedback).", rows=self.rows)
        counts = {
            N_("evaluation created"): int(self.evaluation_created),
            N_("users created"): self.users_created,
            N_("users renamed"): self.users_renamed,
            N_("criteria created"): self.criteria_created,
            N_("reviewer-reviewee pairs created"): self.allocations_created,
            N_("scores created"): self.scores_created,
            N_("scores updated"): self.scores_updated,
            N_("scores unchanged"): self.scores_unchanged,
            N_("summaries now stale"): self.summaries_marked_stale,
        }
        changes = ", ".join(f"{n} {i18n.translate(what)}" for what, n in counts.items() if n)
        return _("%(rows)s rows read: %(changes)s.", rows=self.rows, changes=changes)


# --- reading and validating a file ------------------------------------------


def parse(
    data: bytes,
    *,
    max_bytes: int | None = None,
    known_scales: Mapping[str, Scale] | None = None,
    encoding: str | None = None,
    column_map: Mapping[str, str] | None = None,
) -> ParsedFile:
    """Read and validate a feedback file on its own; `rows` is only meaningful when `ok`.

    `known_scales` are the scales of criteria that already exist, for checking
    scores of criteria the file gives no scale for. `encoding` is an
    Encoding (default: detected); `column_map` names columns of the file
    ({"Cijfer": "score"}) that neither the fields nor ALIASES know.
    """
    parsed = ParsedFile()
    if max_bytes is not None and len(data) > max_bytes:
        parsed.problems.append(too_large(len(data), max_bytes))
        return parsed
    names = {**ALIASES, **{column_name(given): column_name(field) for given, field in (column_map or {}).items()}}
    try:
        found = kind(data)
        if found == Kind.xlsx:
            records = _table(xlsx_rows(data), names)
        elif found != Kind.text:
            raise Unreadable(refusal(found))
        else:
            text, parsed.encoding = decoded(data, Encoding(encoding) if encoding else None)
            if not text.strip():
                parsed.problems.append(ImportProblem(None, N_("the file is empty")))
                return parsed
            start = text.lstrip()[0]
            records = (
                _json_list(text, names) if start == "["
                else _json_lines(text, names) if start == "{"
                else _table(csv_rows(text), names)
            )
    except Unreadable as exc:
        parsed.problems.append(ImportProblem(exc.line, exc.args[0]))
        return parsed
    for line, record in records:
        if isinstance(record, ImportProblem):
            parsed.problems.append(record)
        else:
            parsed.rows.append(_row(line, record, parsed.problems))
    if not parsed.rows and not parsed.problems:
        parsed.problems.append(ImportProblem(None, N_("the file has no rows of feedback")))
    _check_across_rows(parsed, known_scales or {})
    return parsed


def column_map_from(pairs: list[str]) -> dict[str, str]:
    """`["Cijfer=score", "Naam=reviewee_name"]` → {"Cijfer": "score", ...}; ValueError naming a pair that is not one."""
    mapped = {}
    for pair in pairs:
        given, sep, field_name = pair.partition("=")
        if not sep or not given.strip() or column_name(field_name) not in COLUMNS + OPTIONAL_COLUMNS:
            raise ValueError(
                f"{pair!r} does not map a column: write COLUMN=FIELD, FIELD one of {', '.join(COLUMNS + OPTIONAL_COLUMNS)}"
            )
        mapped[given.strip()] = field_name.strip()
    return mapped


def too_large(size: int, max_bytes: int) -> ImportProblem:
    return ImportProblem(
        None, Message("the file is %(size)s bytes; the limit is %(limit)s bytes (IMPORT_MAX_BYTES): split it into parts",
                      size=format(size, ","), limit=format(max_bytes, ","))
    )


Record = dict[str, str]


def _table(rows: Iterator[Row], names: Mapping[str, str]) -> Iterator[tuple[int, Record | ImportProblem]]:
    """The records of a table (CSV or a workbook's sheet): its first non-blank row names the columns."""
    header: list[str] | None = None
    for line, cells in rows:
        if isinstance(cells, str):
            yield line, ImportProblem(line, cells)
            return
        if blank(cells):
            continue
        if header is None:
            header = [_field_name(cell, names) for cell in cells]
            missing = [c for c in COLUMNS if c not in header]
            if missing and _class_list_header(header):
                yield line, ImportProblem(line, _(
                    "This looks like a class list (name, e-mail, team), not a file of feedback: make an evaluation "
                    "from it on the New evaluation page."))
                return
            if missing:
                yield line, ImportProblem(
                    line,
                    Message("missing column(s) %(missing)s; the header must name %(columns)s "
                            "(or a Dutch or English name for each: see the template file on the import page)",
                            missing=", ".join(missing), columns=", ".join(COLUMNS)),
                )
                return
            continue
        if len(cells) > len(header) and any(c.strip() for c in cells[len(header) :]):
            yield line, ImportProblem(
                line, Message("has %(cells)s cells but the header has %(header)s (a comment with an unquoted separator?)",
                              cells=len(cells), header=len(header))
            )
            continue
        yield line, {name: cells[i] if i < len(cells) else "" for i, name in enumerate(header)}


def _class_list_header(header: list[str]) -> bool:
    """A header of one person per row (an e-mail and a team column, nothing about a reviewer or reviewee)."""
    emails = {"email", "e_mail", "emailadres", "e_mailadres", "mail", "email_address"}
    return bool(emails & set(header)) and bool({"team", "groep", "group"} & set(header)) and not any(
        field in header for field in COLUMNS[:4]
    )


# A feedback row is one flat object; nesting deep enough to exhaust Python's recursion is no feedback file.
TOO_DEEP = "is not a feedback file: its JSON is nested thousands of levels deep"


def _json_list(text: str, names: Mapping[str, str]) -> Iterator[tuple[int, Record | ImportProblem]]:
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        yield exc.lineno, ImportProblem(exc.lineno, Message("is not valid JSON: %(error)s", error=exc.msg))
        return
    except RecursionError:
        yield 1, ImportProblem(1, TOO_DEEP)
        return
    # json.loads forgets where each object started: walk the (now known valid) list again for the lines.
    decoder = json.JSONDecoder()
    lines = _LineCounter(text)
    position = text.index("[") + 1
    for item in items:
        while text[position] in " \t\r\n,":
            position += 1
        line = lines.at(position)
        _, position = decoder.raw_decode(text, position)
        yield line, _record(line, item, names)


def _json_lines(text: str, names: Mapping[str, str]) -> Iterator[tuple[int, Record | ImportProblem]]:
    for line, content in enumerate(text.splitlines(), start=1):
        if not content.strip():
            continue
        try:
            value = json.loads(content)
        except json.JSONDecodeError as exc:
            yield line, ImportProblem(line, Message("is not valid JSON: %(error)s", error=exc.msg))
            continue
        except RecursionError:
            yield line, ImportProblem(line, TOO_DEEP)
            continue
        yield line, _record(line, value, names)


def _record(line: int, value: object, names: Mapping[str, str]) -> Record | ImportProblem:
    """A JSON object as the same strings a CSV row would hold."""
    if not isinstance(value, dict):
        return ImportProblem(line, N_("each row must be a JSON object with the feedback fields"))
    record = {_field_name(key, names): _text(item) for key, item in value.items()}
    missing = [c for c in COLUMNS if c not in record]
    if missing:
        return ImportProblem(line, Message("missing field(s) %(missing)s", missing=", ".join(missing)))
    return record


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _field_name(name: str, names: Mapping[str, str]) -> str:
    """The field a column holds: its own name, or the one an alias or the caller's map gives it."""
    normalized = column_name(name)
    return names.get(normalized, normalized)


class _LineCounter:
    """Line numbers of ascending positions in a text, without rescanning it from the start each time."""

    def __init__(self, text: str):
        self.text, self.position, self.line = text, 0, 1

    def at(self, position: int) -> int:
        self.line += self.text.count("\n", self.position, position)
        self.position = position
        return self.line


def _row(line: int, record: Record, problems: list[ImportProblem]) -> FeedbackRow:
    """One row, its problems added to `problems`; what cannot be read is left empty so later checks still run."""
    found: list[str] = []
    for column in COLUMNS + OPTIONAL_COLUMNS:
        cell = record.get(column, "")
        if "\x00" in cell:
            found.append(Message("%(column)s contains a NUL character (\\0), which cannot be stored", column=column))
            record[column] = cell = cell.replace("\x00", "")
        if cell != (written := cell.encode("utf-8", "replace").decode("utf-8")):
            # A JSON file can spell a lone UTF-16 surrogate (\ud800): not a character, and not storable.
            found.append(Message("%(column)s contains a lone surrogate (like \\ud800), which is not a character",
                                 column=column))
            record[column] = cell = written
        limit = LIMITS.get(column)
        if limit is not None and len(cell.strip()) > limit:
            found.append(Message("%(column)s is %(length)s characters long; at most %(limit)s fit",
                                 column=column, length=len(cell.strip()), limit=limit))
    emails = {}
    for column in ("reviewer_email", "reviewee_email"):
        emails[column] = record[column].strip().lower()
        if not _EMAIL.match(emails[column]):
            found.append(Message("%(column)s %(value)r is not an email address", column=column, value=record[column].strip()))
    criterion = record["criterion"].strip()
    if not criterion:
        found.append(N_("criterion is empty"))
    score = _score(record["score"], found)
    scale = _scale(record.get("scale", ""), found)
    is_self = _BOOLEANS.get(record.get("is_self", "").strip().lower())
    if is_self is None:
        found.append(Message("is_self %(value)r is not one of true/false, 1/0, yes/no", value=record["is_self"].strip()))
    elif emails["reviewer_email"] == emails["reviewee_email"] and not is_self and emails["reviewer_email"]:
        found.append(Message("reviewer and reviewee are both %(email)s; mark a self-assessment with is_self=true",
                             email=emails["reviewer_email"]))
    elif is_self and emails["reviewer_email"] != emails["reviewee_email"]:
        found.append(N_("is_self is true but reviewer and reviewee differ"))
    problems.extend(ImportProblem(line, message) for message in found)
    return FeedbackRow(
        line=line,
        reviewer_email=emails["reviewer_email"],
        reviewer_name=record["reviewer_name"].strip(),
        reviewee_email=emails["reviewee_email"],
        reviewee_name=record["reviewee_name"].strip(),
        team=record.get("team", "").strip() or None,
        criterion=criterion,
        score=score,
        comment=record["comment"].strip() or None,
        is_self=bool(is_self),
        scale=scale,
    )


def _score(cell: str, found: list[str]) -> float | None:
    cell = cell.strip()
    if not cell:
        return None  # a comment without a score
    try:
        value = float(cell.replace(",", "."))  # "3,5" from a Dutch spreadsheet
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        found.append(Message("score %(value)r is not a number", value=cell))
        return None
    return value


def _scale(cell: str, found: list[str]) -> Scale | None:
    cell = cell.strip()
    if not cell:
        return None
    match = _SCALE.match(cell)
    low, high = (float(v.replace(",", ".")) for v in match.groups()) if match else (0.0, 0.0)
    if low >= high:
        found.append(Message("unknown criterion scale %(value)r: write it as lowest-highest, like 1-5", value=cell))
        return None
    return (low, high)


def _check_across_rows(parsed: ParsedFile, known_scales: Mapping[str, Scale]) -> None:
    """What no single row shows: duplicates, contradictions between rows, scores outside their scale."""
    first_of: dict[tuple, int] = {}
    names: dict[str, tuple[str, int]] = {}
    teams: dict[tuple[str, str], tuple[str | None, int]] = {}
    member_of: dict[str, tuple[str, int]] = {}
    scale_given: dict[str, tuple[Scale, int]] = {}
    for row in parsed.rows:
        key = (row.reviewer_email, row.reviewee_email, row.criterion)
        if key in first_of:
            parsed.problems.append(
                ImportProblem(row.line, Message("the same reviewer, reviewee and criterion as line %(line)s", line=first_of[key]))
            )
        first_of.setdefault(key, row.line)
        for email, name in ((row.reviewer_email, row.reviewer_name), (row.reviewee_email, row.reviewee_name)):
            if name:
                known_name, known_line = names.setdefault(email, (name, row.line))
                if name != known_name:
                    parsed.problems.append(
                        ImportProblem(row.line, Message(
                            "%(email)s is named %(name)r here but %(known)r on line %(line)s",
                            email=email, name=name, known=known_name, line=known_line))
                    )
        team, team_line = teams.setdefault((row.reviewer_email, row.reviewee_email), (row.team, row.line))
        if row.team != team:
            parsed.problems.append(
                ImportProblem(row.line, Message("team %(team)r here but %(other)r on line %(line)s for the same pair",
                                                team=row.team, other=team, line=team_line))
            )
        for email in {row.reviewer_email, row.reviewee_email} if row.team else ():
            team, team_line = member_of.setdefault(email, (row.team, row.line))
            if row.team != team:
                parsed.problems.append(ImportProblem(row.line, _two_teams(email, row.team, f"in team {team!r} on line {team_line}")))
        if row.scale is not None:
            scale, scale_line = scale_given.setdefault(row.criterion, (row.scale, row.line))
            if row.scale != scale:
                parsed.problems.append(
                    ImportProblem(
                        row.line,
                        Message("criterion %(criterion)r has scale %(scale)s here but %(other)s on line %(line)s",
                                criterion=row.criterion, scale=_fmt(row.scale), other=_fmt(scale), line=scale_line),
                    )
                )
    for criterion in dict.fromkeys(row.criterion for row in parsed.rows if row.criterion):
        given = scale_given.get(criterion)
        parsed.scales[criterion] = given[0] if given else known_scales.get(criterion, DEFAULT_SCALE)
    for row in parsed.rows:
        low, high = parsed.scales.get(row.criterion, DEFAULT_SCALE)
        if row.score is not None and not low <= row.score <= high:
            parsed.problems.append(
                ImportProblem(
                    row.line, Message("score %(score)s is outside the scale %(scale)s of %(criterion)r",
                                      score=format(row.score, "g"), scale=_fmt((low, high)), criterion=row.criterion)
                )
            )
    parsed.problems.sort(key=lambda p: (p.line is not None, p.line or 0))


def _two_teams(email: str, team: str, elsewhere: str) -> str:
    # The insights compare a student with their team: in two teams, a student would be counted in both.
    return f"{email} is in team {team!r} here but {elsewhere}; a student is in one team per evaluation"


def _fmt(scale: Scale) -> str:
    return f"{scale[0]:g}-{scale[1]:g}"


# --- writing it to the database ---------------------------------------------


def import_file(
    session: Session,
    source: Path | str | bytes,
    *,
    school: str,
    evaluation: str,
    language: str | None = None,
    default_language: str = "nl",
    max_bytes: int | None = None,
    progress: Progress | None = None,
    encoding: str | None = None,
    column_map: Mapping[str, str] | None = None,
) -> ImportReport:
    """Import a feedback file (a path or its bytes) into the evaluation titled `evaluation` of `school`.

    School and evaluation are created when missing (the evaluation in
    `language`, else `default_language`). Nothing is written unless the
    whole file is valid; the caller commits.
    """
    if not isinstance(source, bytes):
        path = Path(source)
        size = path.stat().st_size
        if max_bytes is not None and size > max_bytes:
            return ImportReport(problems=[too_large(size, max_bytes)])
        source = path.read_bytes()
    if names_wrong := _name_problems(school, evaluation):
        return ImportReport(problems=names_wrong)
    existing = _find_evaluation(session, school, evaluation)
    known = {c.name: (c.min_score, c.max_score) for c in existing.criteria} if existing else {}
    parsed = parse(source, max_bytes=max_bytes, known_scales=known, encoding=encoding, column_map=column_map)
    return apply(
        session, parsed, school=school, evaluation=evaluation, language=language,
        default_language=default_language, progress=progress,
    )


def apply(
    session: Session,
    parsed: ParsedFile,
    *,
    school: str,
    evaluation: str,
    language: str | None = None,
    default_language: str = "nl",
    progress: Progress | None = None,
) -> ImportReport:
    """Write a parsed file, or nothing when it or its fit with the database has problems."""
    report = ImportReport(problems=[*_name_problems(school, evaluation), *parsed.problems], rows=len(parsed.rows))
    if not report.ok:
        return report
    school_row = session.scalar(select(School).where(School.name == school))
    users = _users(session, parsed)
    report.problems.extend(_conflicts(session, parsed, school_row, users, evaluation))
    if not report.ok:
        return report

    # Only now, with every check passed, does anything get written.
    if school_row is None:
        school_row = School(name=school, created_at=utcnow())
        session.add(school_row)
        session.flush()
    target = _find_evaluation(session, school, evaluation)
    if target is None:
        target = Evaluation(title=evaluation, school_id=school_row.id, language=language or default_language, created_at=utcnow())
        session.add(target)
        report.evaluation_created = True
    language_changed = language is not None and target.language != language
    if language_changed:
        target.language = language
    _write_users(session, parsed, school_row, users, report)
    criteria = _write_criteria(session, target, parsed, report)
    session.flush()
    report.evaluation_id = target.id
    changed_students = _write_scores(session, target, parsed, users, criteria, report, progress)
    session.flush()
    report.summaries_marked_stale = mark_stale_summaries(
        session, target.id, None if language_changed else changed_students
    )
    return report


def _name_problems(school: str, title: str) -> list[ImportProblem]:
    """The school's name and the evaluation's title must fit their columns, like every cell of the file."""
    problems = []
    for what, value, limit in (("school name", school, School.name.type.length),
                               ("evaluation title", title, Evaluation.title.type.length)):
        if not value.strip():
            problems.append(ImportProblem(None, f"the {what} is empty"))
        elif "\x00" in value:
            problems.append(ImportProblem(None, f"the {what} contains a NUL character (\\0)"))
        elif len(value) > limit:
            problems.append(ImportProblem(None, f"the {what} is {len(value)} characters long; at most {limit} fit"))
    return problems


def _find_evaluation(session: Session, school: str, title: str) -> Evaluation | None:
    matches = session.scalars(
        select(Evaluation).join(School).where(School.name == school, Evaluation.title == title).order_by(Evaluation.id)
    ).all()
    return matches[0] if len(matches) == 1 else None


def _users(session: Session, parsed: ParsedFile) -> dict[str, User]:
    emails = {r.reviewer_email for r in parsed.rows} | {r.reviewee_email for r in parsed.rows}
    found: dict[str, User] = {}
    batch = sorted(emails)
    for i in range(0, len(batch), 500):  # stay far below the databases' limits on bound parameters
        found.update((u.email, u) for u in session.scalars(select(User).where(User.email.in_(batch[i : i + 500]))))
    return found


def _conflicts(
    session: Session, parsed: ParsedFile, school: School | None, users: dict[str, User], title: str
) -> list[ImportProblem]:
    problems = []
    if school is not None:
        count = len(
            session.scalars(select(Evaluation.id).where(Evaluation.school_id == school.id, Evaluation.title == title)).all()
        )
        if count > 1:
            problems.append(ImportProblem(None, Message(
                "%(count)s evaluations are titled %(title)r; rename one so the import knows which", count=count, title=title)))
    reported: set[str] = set()
    for row in parsed.rows:
        for email in (row.reviewer_email, row.reviewee_email):
            user = users.get(email)
            if user is not None and (school is None or user.school_id != school.id) and email not in reported:
                reported.add(email)
                problems.append(ImportProblem(row.line, Message("%(email)s belongs to another school", email=email)))
    evaluation = _find_evaluation(session, school.name, title) if school is not None else None
    if evaluation is not None:
        problems.extend(_team_changes(session, parsed, evaluation, users))
    return problems


def _team_changes(session: Session, parsed: ParsedFile, evaluation: Evaluation, users: dict[str, User]) -> list[ImportProblem]:
    """Students the file puts in another team than the one they keep in the evaluation through pairs it leaves alone."""
    in_file = {(users[r.reviewer_email].id, users[r.reviewee_email].id)
               for r in parsed.rows if r.reviewer_email in users and r.reviewee_email in users}
    kept: dict[int, str] = {}
    for allocation in session.scalars(
        select(Allocation).where(Allocation.evaluation_id == evaluation.id, Allocation.team.is_not(None))
    ):
        if (allocation.reviewer_id, allocation.reviewee_id) not in in_file:
            kept[allocation.reviewer_id] = kept[allocation.reviewee_id] = allocation.team
    problems, reported = [], set()
    for row in parsed.rows:
        for email in (row.reviewer_email, row.reviewee_email):
            user = users.get(email)
            team = kept.get(user.id) if user is not None else None
            if row.team and team is not None and team != row.team and email not in reported:
                reported.add(email)
                problems.append(ImportProblem(row.line, _two_teams(email, row.team, f"already in team {team!r} of this evaluation")))
    return problems


def _write_users(session: Session, parsed: ParsedFile, school: School, users: dict[str, User], report: ImportReport) -> None:
    names: dict[str, str] = {}
    for row in parsed.rows:
        for email, name in ((row.reviewer_email, row.reviewer_name), (row.reviewee_email, row.reviewee_name)):
            if name or email not in names:
                names[email] = name or names.get(email, "")
    for email, name in names.items():
        user = users.get(email)
        if user is None:
            users[email] = User(
                email=email, name=name or email.split("@")[0], role=Role.student, school_id=school.id, created_at=utcnow()
            )
            session.add(users[email])
            report.users_created += 1
        elif name and user.name != name and user.role == Role.student:
            # Staff keep the name they have: a teacher's file must not rename a colleague or an admin.
            user.name = name
            report.users_renamed += 1


def _write_criteria(session: Session, evaluation: Evaluation, parsed: ParsedFile, report: ImportReport) -> dict[str, Criterion]:
    criteria = {c.name: c for c in evaluation.criteria}
    for name, (low, high) in parsed.scales.items():
        criterion = criteria.get(name)
        if criterion is None:
            criterion = Criterion(name=name, position=len(criteria), min_score=low, max_score=high)
            evaluation.criteria.append(criterion)
            criteria[name] = criterion
            report.criteria_created += 1
        elif (criterion.min_score, criterion.max_score) != (low, high):
            criterion.min_score, criterion.max_score = low, high
    return criteria


def _write_scores(
    session: Session,
    evaluation: Evaluation,
    parsed: ParsedFile,
    users: dict[str, User],
    criteria: dict[str, Criterion],
    report: ImportReport,
    progress: Progress | None,
) -> set[int]:
    """Create or update an allocation per pair and a score per row; the students whose received feedback changed."""
    allocations = {
        (a.reviewer_id, a.reviewee_id): a
        for a in session.scalars(select(Allocation).where(Allocation.evaluation_id == evaluation.id))
    }
    scores = {
        (s.allocation_id, s.criterion_id): s
        for s in session.scalars(
            select(Score).join(Allocation).where(Allocation.evaluation_id == evaluation.id)
        )
    }
    changed: set[int] = set()
    for done, row in enumerate(parsed.rows, start=1):
        if done % WRITE_BATCH == 0:
            # Written in batches, and progress told after each, so a progress bar shows rows written, not read.
            session.flush()
            if progress is not None:
                progress(done - 1, len(parsed.rows))
        reviewer, reviewee = users[row.reviewer_email], users[row.reviewee_email]
        allocation = allocations.get((reviewer.id, reviewee.id))
        if allocation is None:
            allocation = Allocation(
                evaluation_id=evaluation.id, reviewer_id=reviewer.id, reviewee_id=reviewee.id,
                team=row.team, is_self=row.is_self,
            )
            session.add(allocation)
            allocations[(reviewer.id, reviewee.id)] = allocation
            report.allocations_created += 1
        elif (allocation.team, allocation.is_self) != (row.team, row.is_self):
            allocation.team, allocation.is_self = row.team, row.is_self
            changed.add(reviewee.id)
        change = put_score(session, scores, allocation, criteria[row.criterion], row.score, row.comment)
        if change == "unchanged":
            report.scores_unchanged += 1
            continue
        report.scores_created += change == "created"
        report.scores_updated += change == "updated"
        changed.add(reviewee.id)
    session.flush()
    if progress is not None:
        progress(len(parsed.rows), len(parsed.rows))
    return changed


def template_rows(language: str) -> list[list[str]]:
    """The import page's template file: the header and example rows, in `language` (else English)."""
    language = language if language in TEMPLATE else "en"
    sanne, daan = ("sanne.bakker@school.example", "Sanne Bakker"), ("daan.visser@school.example", "Daan Visser")
    criterion = {"nl": "Samenwerking", "en": "Collaboration"}[language]
    (c1, s1), (c2, s2), (c3, s3) = _EXAMPLE[language]
    return [
        *TEMPLATE[language],
        [*sanne, *daan, "Team A", criterion, "4", c1, s1],
        [*daan, *sanne, "Team A", criterion, "5", c2, s2],
        [*sanne, *sanne, "Team A", criterion, "4", c3, s3],
    ]
