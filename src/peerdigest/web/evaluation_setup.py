"""Setting up an evaluation on pages: create one from a class list, change its teams, archive it; template files.

A teacher types what the evaluation asks (title, language, criteria, scale,
self-rating, open and close time in the school's time zone) and gives the
class as a spreadsheet (CSV or .xlsx) or as rows pasted from one. Creating
is all or nothing: any problem, named by the page's field (and the list's
row), leaves the page as it was with nothing written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from typing import Annotated

from fastapi import File, Form, HTTPException, Request, UploadFile, status
from fastapi.responses import Response
from sqlalchemy import select

from peerdigest.api.deps import SessionDep, SettingsDep, visible_evaluation
from peerdigest.api.schemas import PathId
from peerdigest.config import Language
from peerdigest.db.models import Criterion, Evaluation, User, utcnow
from peerdigest.db.session import discard_writes
from peerdigest.domain import class_list, importer
from peerdigest.domain.evaluations import (
    CRITERIA_SETS,
    CriterionSpec,
    EvaluationError,
    archive_evaluation,
    create_evaluation,
    reallocate,
    teams_of,
)
from peerdigest.domain.importer import ImportProblem
from peerdigest.domain.tables import as_csv, as_xlsx
from peerdigest.i18n import _, ngettext, zone
from peerdigest.web.pages import StaffPageUser, page_language, page_router, redirect, render

router = page_router()

OWN_CRITERIA = "own"
SCALES = (5, 10)
MAX_CRITERIA = 20
DEFAULT_REMIND_HOURS = 24
DEFAULT_OPENS, DEFAULT_CLOSES = "08:00", "17:00"

Text = Annotated[str, Form()]
Flag = Annotated[bool, Form()]


@dataclass(frozen=True)
class Problem:
    """Something to correct, named by the page's field that holds it (and the class list's row)."""

    field: str
    message: str
    line: int | None = None


# --- creating an evaluation ---------------------------------------------------------------------------------------


def _new_page(request: Request, user: User, form: dict, problems: list[Problem] = (), status_code: int = 200):
    return render(request, "evaluation_new.html", status_code=status_code, user=user, form=form, problems=problems,
                  criteria_sets=CRITERIA_SETS, own=OWN_CRITERIA, scales=SCALES, languages=list(Language),
                  zone_name=user.school.time_zone)


@router.get("/evaluations/new")
def new_evaluation_page(request: Request, user: StaffPageUser, settings: SettingsDep):
    form = {"language": user.school.language or settings.summary_language, "criteria_set": "Teamwork", "scale": "5",
            "opens_time": DEFAULT_OPENS, "closes_time": DEFAULT_CLOSES, "remind_hours_before": str(DEFAULT_REMIND_HOURS),
            "self_rating": False, "self_rating_counts": False, "comment_required": False}
    return _new_page(request, user, form)


@router.post("/evaluations/new")
def create_from_class_list(
    request: Request,
    user: StaffPageUser,
    session: SessionDep,
    settings: SettingsDep,
    title: Text = "",
    language: Text = "",
    criteria_set: Text = "",
    own_criteria: Text = "",
    scale: Text = "5",
    self_rating: Flag = False,
    self_rating_counts: Flag = False,
    comment_required: Flag = False,
    opens_date: Text = "",
    opens_time: Text = "",
    closes_date: Text = "",
    closes_time: Text = "",
    remind_hours_before: Text = "",
    class_rows: Text = "",
    class_file: Annotated[UploadFile | None, File()] = None,
):
    form = {k: v for k, v in locals().items() if k not in ("request", "user", "session", "settings", "class_file")}
    problems: list[Problem] = []
    title = " ".join(title.split())
    if not title:
        problems.append(Problem(_("Title"), _("Give the evaluation a title.")))
    elif len(title) > Evaluation.title.type.length or "\x00" in title:
        problems.append(Problem(_("Title"), _("At most %(limit)s characters.", limit=Evaluation.title.type.length)))
    if language not in {lang.value for lang in Language}:
        problems.append(Problem(_("Language"), _("Choose Dutch or English.")))
    criteria = _criteria(criteria_set, own_criteria, language, scale, problems)
    opens_at = _moment(opens_date, opens_time or DEFAULT_OPENS, user.school.time_zone, _("Opens"), problems)
    deadline = _moment(closes_date, closes_time or DEFAULT_CLOSES, user.school.time_zone, _("Closes"), problems)
    if deadline is not None and deadline <= utcnow():
        problems.append(Problem(_("Closes"), _("That moment has passed: choose a close time in the future.")))
    elif opens_at is not None and deadline is not None and opens_at >= deadline:
        problems.append(Problem(_("Closes"), _("The evaluation closes before it opens: choose a later close time.")))
    remind = _remind_hours(remind_hours_before, problems)
    members = _class_list(class_file, class_rows, settings.import_max_bytes, problems)
    if not problems:
        enrolled = class_list.enrol(session, user.school_id, members.members)
        problems.extend(_listed(enrolled.problems))
    if not problems:
        try:
            evaluation = create_evaluation(
                session, school_id=user.school_id, title=title, language=language, deadline=deadline, opens_at=opens_at,
                criteria=criteria, teams=members.teams(), self_rating=self_rating,
                self_rating_counts=self_rating_counts, comment_required=comment_required, remind_hours_before=remind,
            )
        except EvaluationError as exc:
            problems.append(Problem(_("Class list"), str(exc)))
    if problems:
        discard_writes(session)
        return _new_page(request, user, form, problems, status.HTTP_422_UNPROCESSABLE_CONTENT)
    teams = members.teams()
    return redirect(f"/evaluations/{evaluation.id}", ngettext(
        "Created %(title)s: %(students)s students in %(num)d team (%(new)s new to the school).",
        "Created %(title)s: %(students)s students in %(num)d teams (%(new)s new to the school).",
        len(teams), title=title, students=len(members.members), new=enrolled.created))


def _criteria(chosen: str, own: str, language: str, scale: str, problems: list[Problem]) -> list[CriterionSpec]:
    if scale not in {str(s) for s in SCALES}:
        problems.append(Problem(_("Scale"), _("Choose 1–5 or 1–10.")))
        return []
    if chosen == OWN_CRITERIA:
        names = [" ".join(line.split()) for line in own.splitlines() if line.strip()]
    elif chosen in CRITERIA_SETS.get(language, {}):
        names = list(CRITERIA_SETS[language][chosen])
    else:
        problems.append(Problem(_("Criteria"), _("Choose a set of criteria, or your own.")))
        return []
    label = _("Your own criteria")
    if not names:
        problems.append(Problem(label, _("Write at least one criterion, one per line.")))
    elif len(names) > MAX_CRITERIA:
        problems.append(Problem(label, _("At most %(limit)s criteria.", limit=MAX_CRITERIA)))
    elif len({n.lower() for n in names}) != len(names):
        problems.append(Problem(label, _("A criterion is named twice; each once.")))
    elif any(len(n) > Criterion.name.type.length or "\x00" in n for n in names):
        problems.append(Problem(label, _("A criterion is at most %(limit)s characters.", limit=Criterion.name.type.length)))
    return [CriterionSpec(name, 1, int(scale)) for name in names]


def _moment(day: str, clock: str, time_zone: str, label: str, problems: list[Problem]) -> datetime | None:
    """A date and time typed in the school's time zone, in UTC; None when no date is given."""
    if not day.strip():
        return None
    try:
        local = datetime.combine(date.fromisoformat(day.strip()), time.fromisoformat(clock.strip()))
    except ValueError:
        problems.append(Problem(label, _("Write the date as 2026-12-07 and the time as 17:00.")))
        return None
    return local.replace(tzinfo=zone(time_zone)).astimezone(timezone.utc)


def _remind_hours(given: str, problems: list[Problem]) -> int | None:
    if not given.strip():
        return None
    try:
        hours = int(given.strip())
    except ValueError:
        hours = -1
    if not 1 <= hours <= 24 * 30:
        problems.append(Problem(_("Reminder"), _("Write a whole number of hours from 1 to 720, or leave it empty.")))
        return None
    return hours


def _class_list(file: UploadFile | None, pasted: str, max_bytes: int, problems: list[Problem]) -> class_list.ClassList:
    """The class list from the uploaded file or the pasted rows (one of the two)."""
    has_file = file is not None and bool(file.filename)
    if has_file and pasted.strip():
        problems.append(Problem(_("Class list"), _("Give the class as a file or as pasted rows, not both.")))
        return class_list.ClassList()
    if has_file:
        parsed = class_list.parse_file(file.file.read(max_bytes + 1), max_bytes=max_bytes)
    elif pasted.strip():
        parsed = class_list.parse_text(pasted)
    else:
        problems.append(Problem(_("Class list"), _("Upload the class list, or paste its rows.")))
        return class_list.ClassList()
    problems.extend(_listed(parsed.problems))
    return parsed


def _listed(found: list[ImportProblem]) -> list[Problem]:
    return [Problem(_("Class list"), p.message, p.line) for p in found]


# --- template files -----------------------------------------------------------------------------------------------

TEMPLATES = {"class-list": class_list.template_rows, "feedback": importer.template_rows}
FILE_NAMES = {"class-list": {"nl": "klaslijst", "en": "class-list"}, "feedback": {"nl": "feedback", "en": "feedback"}}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/import/templates/{which}.{extension}")
def template_file(which: str, extension: str, request: Request, user: StaffPageUser):
    """A template file to fill in, with headers in the reader's language: CSV (`;` for Dutch Excel) or .xlsx."""
    if which not in TEMPLATES or extension not in ("csv", "xlsx"):
        raise HTTPException(status.HTTP_404_NOT_FOUND, _("There is no such template file."))
    language = page_language(request, user)
    rows = TEMPLATES[which](language)
    if extension == "csv":
        content, media_type = as_csv(rows, ";" if language == "nl" else ","), "text/csv; charset=utf-8"
    else:
        content, media_type = as_xlsx(rows), XLSX
    name = f"{FILE_NAMES[which][language]}.{extension}"
    return Response(content, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{name}"'})


# --- the class of an evaluation: change teams, add and remove students -------------------------------------------


@dataclass(frozen=True)
class Seat:
    student: User
    team: str | None


def _seats(session, evaluation: Evaluation) -> list[Seat]:
    teams = teams_of(session, evaluation.id)
    users = session.scalars(select(User).where(User.id.in_(list(teams)))).all()
    return sorted((Seat(u, teams[u.id]) for u in users), key=lambda s: ((s.team or "").lower(), s.student.name.lower()))


def _class_page(request: Request, session, user: User, evaluation: Evaluation, problems=(), form=None, status_code=200):
    return render(request, "teams_edit.html", status_code=status_code, user=user, evaluation=evaluation,
                  seats=_seats(session, evaluation), problems=problems, form=form or {})


@router.get("/evaluations/{evaluation_id}/class")
def class_page(evaluation_id: PathId, request: Request, user: StaffPageUser, session: SessionDep):
    return _class_page(request, session, user, visible_evaluation(session, user, evaluation_id))


@router.post("/evaluations/{evaluation_id}/class")
def change_class(
    evaluation_id: PathId,
    request: Request,
    user: StaffPageUser,
    session: SessionDep,
    student: Annotated[list[int], Form()] = [],
    team: Annotated[list[str], Form()] = [],
    remove: Annotated[list[int], Form()] = [],
    add_rows: Text = "",
):
    evaluation = visible_evaluation(session, user, evaluation_id)
    current = teams_of(session, evaluation.id)
    names = {s.student.id: s.student.name for s in _seats(session, evaluation)}
    problems: list[Problem] = []
    changes: dict[int, str | None] = {}
    for student_id, new_team in zip(student, team, strict=False):
        if student_id not in current:
            continue  # taken out by someone else meanwhile
        new_team = " ".join(new_team.split())
        if student_id in remove:
            changes[student_id] = None
        elif not new_team:
            if current[student_id] is not None:
                problems.append(Problem(_("Team"), _("%(name)s has no team: write one, or tick Remove.",
                                                     name=names[student_id])))
        elif len(new_team) > 100:
            problems.append(Problem(_("Team"), _("A team name is at most 100 characters.")))
        else:
            changes[student_id] = new_team
    if add_rows.strip():
        added = class_list.parse_text(add_rows, whole_class=False)
        listed = [Problem(_("Add students"), p.message, p.line) for p in added.problems]
        problems.extend(listed)
        if not listed:
            enrolled = class_list.enrol(session, user.school_id, added.members)
            problems.extend(Problem(_("Add students"), p.message, p.line) for p in enrolled.problems)
            for member in added.members:
                new_user = enrolled.users.get(member.email)
                if new_user is None:
                    continue
                if new_user.id in current:
                    problems.append(Problem(_("Add students"), _(
                        "%(email)s is in this evaluation already: change their team above.", email=member.email),
                        member.line))
                changes[new_user.id] = member.team
    wanted = {**current, **changes}
    # A team a student joins or leaves must not end with one member: nobody would rate them.
    involved = {t for t in changes.values() if t is not None} | {current.get(s) for s in changes} - {None}
    for changed_team in sorted(involved):
        if sum(1 for t in wanted.values() if t == changed_team) == 1:
            problems.append(Problem(_("Team"), _(
                "Team %(team)s would have one student; a team needs at least two to rate each other.",
                team=changed_team)))
    if problems:
        discard_writes(session)
        return _class_page(request, session, user, evaluation, problems, {"add_rows": add_rows},
                           status.HTTP_422_UNPROCESSABLE_CONTENT)
    done = reallocate(session, evaluation, changes)
    moved = sum(1 for s, t in changes.items() if s in current and t is not None and current[s] != t)
    notice = _(
        "Saved the class: %(moved)s moved, %(added)s added, %(removed)s removed; %(scores)s scores between former "
        "teammates deleted, %(stale)s summaries now stale.",
        moved=moved, added=sum(1 for s in changes if s not in current),
        removed=sum(1 for t in changes.values() if t is None), scores=done.scores_removed,
        stale=done.summaries_marked_stale,
    )
    return redirect(f"/evaluations/{evaluation.id}/class", notice)


# --- archiving ----------------------------------------------------------------------------------------------------


@router.get("/evaluations/{evaluation_id}/archive")
def archive_page(evaluation_id: PathId, request: Request, user: StaffPageUser, session: SessionDep):
    evaluation = visible_evaluation(session, user, evaluation_id)
    return render(request, "evaluation_archive.html", user=user, evaluation=evaluation)


@router.post("/evaluations/{evaluation_id}/archive")
def archive(evaluation_id: PathId, user: StaffPageUser, session: SessionDep):
    evaluation = visible_evaluation(session, user, evaluation_id)
    archive_evaluation(evaluation)
    return redirect("/evaluations", _("Archived %(title)s: it is no longer listed.", title=evaluation.title))
