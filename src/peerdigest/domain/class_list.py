"""A class list: each student's name, e-mail and team, from a spreadsheet (CSV or .xlsx) or rows pasted on a page.

Two steps, like the feedback importer: `parse` reads the list on its own and
names every problem with its spreadsheet row; `enrol` finds each student in
the school, or adds them as a student, in the caller's transaction. A person
who is a teacher or admin, or who belongs to another school, is refused, and
an existing student keeps their name: a class list never renames anyone.

Headers may be Dutch or English (`Naam`, `E-mail`, `Groep`, ..., see
ALIASES); Dutch school systems export the name in parts (`Voornaam`,
`Tussenvoegsel`, `Achternaam`), which are joined. Rows without a header are
read by content: the cell with an @ is the e-mail, then the name and the team
in that order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from peerdigest.db.models import Allocation, Role, User, utcnow
from peerdigest.domain.importer import ImportProblem
from peerdigest.domain.tables import Unreadable, blank, column_name, csv_rows, rows
from peerdigest.i18n import _

FIELDS = ("name", "email", "team")
NAME_PARTS = ("first_name", "infix", "last_name")
# Other names spreadsheets give the columns, normalized like every header (lower case, `_` for spaces and dashes).
ALIASES = {
    "naam": "name", "student": "name", "leerling": "name", "student_name": "name", "full_name": "name",
    "volledige_naam": "name", "naam_student": "name", "naam_leerling": "name", "studentnaam": "name",
    "leerlingnaam": "name", "roepnaam_achternaam": "name",
    "e_mail": "email", "mail": "email", "emailadres": "email", "e_mailadres": "email", "email_address": "email",
    "e_mail_address": "email", "student_email": "email", "e_mail_student": "email", "email_student": "email",
    "e_mail_leerling": "email", "email_leerling": "email", "school_email": "email", "e_mail_school": "email",
    "groep": "team", "group": "team", "team_name": "team", "teamnaam": "team", "projectgroep": "team",
    "project_group": "team", "subgroep": "team", "groepsnaam": "team",
    "voornaam": "first_name", "roepnaam": "first_name", "first_name": "first_name", "given_name": "first_name",
    "tussenvoegsel": "infix", "tussenvoegsels": "infix", "achternaam": "last_name", "last_name": "last_name",
    "surname": "last_name", "family_name": "last_name",
}
# The example rows of the template file, with headers in the page's language.
TEMPLATE = {
    "nl": [["Naam", "E-mail", "Team"], ["Sanne Bakker", "sanne.bakker@school.example", "Team A"],
           ["Daan Visser", "daan.visser@school.example", "Team A"], ["Lisa Jansen", "lisa.jansen@school.example", "Team B"],
           ["Noah Smit", "noah.smit@school.example", "Team B"]],
    "en": [["Name", "E-mail", "Team"], ["Sanne Bakker", "sanne.bakker@school.example", "Team A"],
           ["Daan Visser", "daan.visser@school.example", "Team A"], ["Lisa Jansen", "lisa.jansen@school.example", "Team B"],
           ["Noah Smit", "noah.smit@school.example", "Team B"]],
}

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_LIMITS = {"name": User.name.type.length, "email": User.email.type.length, "team": Allocation.team.type.length}


@dataclass(frozen=True)
class Member:
    line: int
    name: str  # "" when the list gives none (fine for a student the school already has)
    email: str
    team: str


@dataclass
class ClassList:
    members: list[Member] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def teams(self) -> dict[str, list[str]]:
        """Team → its members' e-mails, in the order of the list."""
        teams: dict[str, list[str]] = {}
        for member in self.members:
            teams.setdefault(member.team, []).append(member.email)
        return teams


def parse_file(data: bytes, *, max_bytes: int | None = None) -> ClassList:
    """A class list from a file: CSV (any of the encodings spreadsheets write) or an .xlsx workbook's first sheet.

    A whole class: a team of one student is a problem (nobody would rate them).
    """
    if max_bytes is not None and len(data) > max_bytes:
        message = _("The file is %(size)s bytes; at most %(limit)s fit.", size=len(data), limit=max_bytes)
        return ClassList(problems=[ImportProblem(None, message)])
    try:
        return _parse(rows(data), whole_class=True)
    except Unreadable as exc:
        return ClassList(problems=[ImportProblem(exc.line, str(exc))])


def parse_text(text: str, *, whole_class: bool = True) -> ClassList:
    """A class list pasted on a page: rows copied from a spreadsheet (tabs), or typed with `,` or `;`.

    Not a `whole_class` (students added to an evaluation): one student may join a team that exists.
    """
    return _parse(csv_rows(text.strip("\r\n")), whole_class=whole_class)


def _parse(table, *, whole_class: bool) -> ClassList:
    parsed = ClassList()
    columns: dict[str, int] | None = None
    for line, cells in table:
        if isinstance(cells, str):
            parsed.problems.append(ImportProblem(line, cells))
            break
        if blank(cells):
            continue
        if columns is None:
            if not any(_EMAIL.match(cell.strip()) for cell in cells):
                columns = _header(line, cells, parsed)
                if columns is None:
                    break
                continue
            columns = {}  # no header: read each row by its content
        member = _member(line, cells, columns, parsed.problems)
        if member is not None:
            parsed.members.append(member)
    if not parsed.members and not parsed.problems:
        parsed.problems.append(ImportProblem(None, _("The class list has no students.")))
    _check_across_rows(parsed, whole_class)
    parsed.problems.sort(key=lambda p: (p.line is not None, p.line or 0))
    return parsed


def _header(line: int, cells: list[str], parsed: ClassList) -> dict[str, int] | None:
    columns: dict[str, int] = {}
    for index, cell in enumerate(cells):
        name = column_name(cell)
        columns.setdefault(ALIASES.get(name, name), index)
    has_name = "name" in columns or "last_name" in columns
    missing = [what for what, present in ((_("name"), has_name), (_("e-mail"), "email" in columns),
                                          (_("team"), "team" in columns)) if not present]
    if missing:
        parsed.problems.append(ImportProblem(line, _(
            "The header has no column for %(missing)s; name the columns Name, E-mail and Team (Naam, E-mail, Team).",
            missing=", ".join(missing))))
        return None
    return columns


def _member(line: int, cells: list[str], columns: dict[str, int], problems: list[ImportProblem]) -> Member | None:
    cells = [cell.strip() for cell in cells]
    if columns:
        cell = {what: cells[index] if index < len(cells) else "" for what, index in columns.items()}
        name = cell.get("name") or " ".join(cell[part] for part in NAME_PARTS if cell.get(part))
        email, team = cell["email"], cell["team"]
    else:
        email = next((c for c in cells if _EMAIL.match(c)), "")
        rest = [c for c in cells if c != email]
        name, team = (rest + ["", ""])[:2]
    found = []
    if not _EMAIL.match(email):
        found.append(_("%(email)s is not an e-mail address", email=repr(email)) if email else _("the e-mail is empty"))
    if not team:
        found.append(_("the team is empty"))
    for what, label, value in (("name", _("the name"), name), ("email", _("the e-mail"), email),
                               ("team", _("the team"), team)):
        if len(value) > _LIMITS[what]:
            found.append(_("%(what)s is %(length)s characters long; at most %(limit)s fit",
                           what=label, length=len(value), limit=_LIMITS[what]))
        if "\x00" in value:
            found.append(_("%(what)s contains a NUL character (\\0)", what=label))
    problems.extend(ImportProblem(line, message) for message in found)
    return None if found else Member(line, " ".join(name.split()), email.lower(), " ".join(team.split()))


def _check_across_rows(parsed: ClassList, whole_class: bool) -> None:
    first: dict[str, Member] = {}
    for member in parsed.members:
        earlier = first.setdefault(member.email, member)
        if earlier is not member:
            parsed.problems.append(ImportProblem(member.line, _(
                "%(email)s is also on line %(line)s; each student once, in one team", email=member.email,
                line=earlier.line)))
    if parsed.problems or not whole_class:
        return
    for team, emails in parsed.teams().items():
        if len(emails) == 1:
            line = next(m.line for m in parsed.members if m.team == team)
            parsed.problems.append(ImportProblem(line, _(
                "team %(team)s has one student; a team needs at least two to rate each other", team=repr(team))))


@dataclass
class Enrolled:
    users: dict[str, User]  # by e-mail, every member of the list
    created: int = 0
    problems: list[ImportProblem] = field(default_factory=list)


def enrol(session: Session, school_id: int, members: list[Member]) -> Enrolled:
    """Every member as a user of the school: found by e-mail, or added as a student (flushed, not committed).

    Nothing is added when any member is refused (a teacher or admin, someone of
    another school, a new student without a name).
    """
    emails = [m.email for m in members]
    existing: dict[str, User] = {}
    for i in range(0, len(emails), 500):  # stay far below the databases' limits on bound parameters
        existing.update((u.email, u) for u in session.scalars(select(User).where(User.email.in_(emails[i : i + 500]))))
    enrolled = Enrolled(users={})
    for member in members:
        user = existing.get(member.email)
        if user is None:
            if not member.name:
                enrolled.problems.append(ImportProblem(member.line, _(
                    "%(email)s is new to the school and has no name: add the name", email=member.email)))
        elif user.school_id != school_id:
            enrolled.problems.append(ImportProblem(member.line, _(
                "%(email)s belongs to another school", email=member.email)))
        elif user.role != Role.student:
            enrolled.problems.append(ImportProblem(member.line, _(
                "%(email)s is a %(role)s of this school, not a student", email=member.email, role=_(user.role))))
        else:
            enrolled.users[member.email] = user
    if enrolled.problems:
        return enrolled
    for member in members:
        if member.email not in enrolled.users:
            user = User(email=member.email, name=member.name, role=Role.student, school_id=school_id, created_at=utcnow())
            session.add(user)
            enrolled.users[member.email] = user
            enrolled.created += 1
    session.flush()
    return enrolled


def template_rows(language: str) -> list[list[str]]:
    return TEMPLATE.get(language, TEMPLATE["en"])

