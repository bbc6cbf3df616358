"""Setting up an evaluation on pages: create one from a class list, change its teams and its times, archive it;
template files.

A teacher types what the evaluation asks (title, language, criteria, scale,
self-rating, open and close time in the school's time zone) and gives the
class as a spreadsheet (CSV or .xlsx) or as rows pasted from one. Creating
is all or nothing: any problem, named by the page's field (and the list's
row), leaves the page as it was with nothing written. The times page moves the
open and close time and the reminder afterwards, or closes the evaluation now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from typing import Annotated

from fastapi import File, Form, HTTPException, Request, UploadFile, status
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from peerdigest.api.deps import CurrentUser, SessionDep, SettingsDep, StaffEvaluation, StaffUser
from peerdigest.config import Language
from peerdigest.db.models import FIRST_YEAR, LAST_YEAR, Criterion, Evaluation, User, utcnow
from peerdigest.db.session import discard_writes
from peerdigest.domain import class_list, importer
from peerdigest.domain.evaluations import (
    CRITERIA_SETS,
    SCALES,
    CriterionSpec,
    EvaluationError,
    OptionProblem,
    archive_evaluation,
    change_times,
    check_options,
    close_now,
    create_evaluation,
    reallocate,
    teams_of,
)
from peerdigest.domain.importer import ImportProblem
from peerdigest.domain.tables import as_csv, as_xlsx
from peerdigest.i18n import N_, _, format_datetime, ngettext, on_school_clock, zone
from peerdigest.web.pages import page_language, page_router, redirect, render

router = page_router()

OWN_CRITERIA = "own"
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


# The page's field of each option `check_options` names.
OPTION_FIELDS = {"opens_at": N_("Opens"), "deadline": N_("Closes"), "remind_hours_before": N_("Reminder"),
                 "scale": N_("Scale")}


def _on_page(found: list[OptionProblem]) -> list[Problem]:
    return [Problem(_(OPTION_FIELDS[p.option]), p.message) for p in found]


# --- creating an evaluation ---------------------------------------------------------------------------------------


def _new_page(request: Request, user: User, form: dict, problems: list[Problem] = (), status_code: int = 200):
    return render(request, "evaluation_new.html", status_code=status_code, user=user, form=form, problems=problems,
                  criteria_sets=CRITERIA_SETS, own=OWN_CRITERIA, scales=SCALES, languages=list(Language),
                  zone_name=user.school.time_zone)


@router.get("/evaluations/new")
def new_evaluation_page(request: Request, user: StaffUser, settings: SettingsDep):
    form = {"language": user.school.language or settings.summary_language, "criteria_set": "Teamwork", "scale": "5",
            "opens_time": DEFAULT_OPENS, "closes_time": DEFAULT_CLOSES, "remind_hours_before": str(DEFAULT_REMIND_HOURS),
            "self_rating": False, "self_rating_counts": False, "comment_required": False}
    return _new_page(request, user, form)


@router.post("/evaluations/new")
def create_from_class_list(
    request: Request,
    user: StaffUser,
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
    points = {str(top): top for top in SCALES}.get(scale, 0)  # 0: none of them, which check_options names
    criteria = _criteria(criteria_set, own_criteria, language, points, problems)
    opens_at, deadline, remind = _times(opens_date, opens_time, closes_date, closes_time, remind_hours_before,
                                        user.school.time_zone, problems, scale=points)
    members = _class_list(class_file, class_rows, settings.import_max_bytes, problems)
    if not problems:
        try:
            enrolled = class_list.enrol(session, user.school_id, members.members)
        except IntegrityError:
            # Another request added one of these new students meanwhile: most likely this form, sent twice.
            discard_writes(session)
            return _new_page(request, user, form, [Problem(_("Class list"), _(
                "Some of these students were added at the same moment by another request (was this form sent "
                "twice?). Nothing was saved from this one: look in the evaluations list before sending it again."))],
                status.HTTP_409_CONFLICT)
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


def _criteria(chosen: str, own: str, language: str, scale: int, problems: list[Problem]) -> list[CriterionSpec]:
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
    return [CriterionSpec(name, 1, scale) for name in names]


def _times(
    opens_date: str, opens_time: str, closes_date: str, closes_time: str, remind_hours_before: str, time_zone: str,
    problems: list[Problem], scale: int | None = None,
) -> tuple[datetime | None, datetime | None, int | None]:
    """The open and close time (in UTC) and the reminder hours as the page's fields give them, checked by
    `check_options` (with the scale, when the page asks one); what is wrong goes to `problems`."""
    opens_at = _moment(opens_date, opens_time or DEFAULT_OPENS, time_zone, _("Opens"), problems)
    deadline = _moment(closes_date, closes_time or DEFAULT_CLOSES, time_zone, _("Closes"), problems)
    remind = _remind_hours(remind_hours_before, problems)
    problems.extend(_on_page(check_options(
        now=utcnow(), opens_at=opens_at, deadline=deadline, remind_hours_before=remind, scale=scale)))
    return opens_at, deadline, remind


def _moment(day: str, clock: str, time_zone: str, label: str, problems: list[Problem]) -> datetime | None:
    """A date and time typed in the school's time zone, in UTC; None when no date is given."""
    if not day.strip():
        return None
    try:
        local = datetime.combine(date.fromisoformat(day.strip()), time.fromisoformat(clock.strip()))
    except ValueError:
        problems.append(Problem(label, _("Write the date as 2026-12-07 and the time as 17:00.")))
        return None
    # Checked as typed, before the time zone moves it: year 1 or 9999 may have no UTC equivalent at all.
    if not FIRST_YEAR <= local.year <= LAST_YEAR:
        problems.append(Problem(label, _("Choose a date from the year %(first)s to %(last)s.",
                                         first=FIRST_YEAR, last=LAST_YEAR)))
        return None
    return local.replace(tzinfo=zone(time_zone)).astimezone(timezone.utc)


def _remind_hours(given: str, problems: list[Problem]) -> int | None:
    """The hours typed, as a number (`check_options` then checks them); None when left empty."""
    if not given.strip():
        return None
    try:
        return int(given.strip())
    except ValueError:
        problems.append(Problem(_("Reminder"), _("Write a whole number of hours from 1 to 720, or leave it empty.")))
        return None


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
def template_file(which: str, extension: str, request: Request, user: StaffUser):
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
def class_page(evaluation: StaffEvaluation, request: Request, user: CurrentUser, session: SessionDep):
    return _class_page(request, session, user, evaluation)


@router.post("/evaluations/{evaluation_id}/class")
def change_class(
    evaluation: StaffEvaluation,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    student: Annotated[list[int], Form()] = [],
    team: Annotated[list[str], Form()] = [],
    remove: Annotated[list[int], Form()] = [],
    add_rows: Text = "",
):
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


# --- the times of an evaluation: when it opens and closes, its reminder, closing it now -------------------------


def _local(moment: datetime | None, time_zone: str) -> tuple[str, str]:
    """A moment as the page's date and time fields show it, in the school's time zone."""
    if moment is None:
        return "", ""
    local = on_school_clock(moment, time_zone)
    return local.strftime("%Y-%m-%d"), local.strftime("%H:%M")


def _times_page(request: Request, user: User, evaluation: Evaluation, form: dict | None = None, problems=(),
                status_code: int = 200):
    if form is None:
        time_zone = user.school.time_zone
        (opens_date, opens_time), (closes_date, closes_time) = (
            _local(evaluation.opens_at, time_zone), _local(evaluation.deadline, time_zone))
        form = {"opens_date": opens_date, "opens_time": opens_time, "closes_date": closes_date,
                "closes_time": closes_time, "remind_hours_before": evaluation.remind_hours_before or ""}
    now = utcnow()
    return render(request, "evaluation_times.html", status_code=status_code, user=user, evaluation=evaluation,
                  form=form, problems=problems, zone_name=user.school.time_zone,
                  closed=evaluation.deadline is not None and evaluation.deadline <= now)


@router.get("/evaluations/{evaluation_id}/times")
def times_page(evaluation: StaffEvaluation, request: Request, user: CurrentUser):
    return _times_page(request, user, evaluation)


@router.post("/evaluations/{evaluation_id}/times")
def change_times_on_page(
    evaluation: StaffEvaluation,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    opens_date: Text = "",
    opens_time: Text = "",
    closes_date: Text = "",
    closes_time: Text = "",
    remind_hours_before: Text = "",
    reopen: Flag = False,
):
    form = {"opens_date": opens_date, "opens_time": opens_time, "closes_date": closes_date,
            "closes_time": closes_time, "remind_hours_before": remind_hours_before, "reopen": reopen}
    problems: list[Problem] = []
    time_zone = user.school.time_zone
    opens_at, deadline, remind = _times(opens_date, opens_time, closes_date, closes_time, remind_hours_before,
                                        time_zone, problems)
    # Its summaries were queued at the close: a later close lets the class change its answers again and queues
    # them again then, which a teacher should choose knowingly rather than by moving a date.
    if not problems and evaluation.close_queued_at is not None and not reopen:
        problems.append(Problem(_("Closes"), _(
            "This evaluation has closed and its summaries were queued. Tick Open it again to give the class until "
            "the new close time.")))
    if problems:
        return _times_page(request, user, evaluation, form, problems, status.HTTP_422_UNPROCESSABLE_CONTENT)
    reopened = evaluation.close_queued_at is not None
    change_times(session, evaluation, opens_at=opens_at, deadline=deadline, remind_hours_before=remind)
    closes = format_datetime(deadline, time_zone) if deadline is not None else _("you close it")
    if reopened:
        notice = _("It is open again until %(closes)s; its summaries are queued again then (only those whose "
                   "feedback changed are written again).", closes=closes)
    else:
        notice = _("Saved: open from %(opens)s until %(closes)s.",
                   opens=format_datetime(opens_at, time_zone) if opens_at is not None else _("now"),
                   closes=closes)
    return redirect(f"/evaluations/{evaluation.id}/times", notice)


@router.post("/evaluations/{evaluation_id}/close")
def close_on_page(evaluation: StaffEvaluation, session: SessionDep):
    if evaluation.deadline is not None and evaluation.deadline <= utcnow():
        return redirect(f"/evaluations/{evaluation.id}/times", _("This evaluation had closed already."))
    close_now(session, evaluation)
    return redirect(f"/evaluations/{evaluation.id}", _(
        "Closed: students can no longer change their answers. The scheduler queues their summaries shortly."))


# --- archiving ----------------------------------------------------------------------------------------------------


@router.get("/evaluations/{evaluation_id}/archive")
def archive_page(evaluation: StaffEvaluation, request: Request, user: CurrentUser):
    return render(request, "evaluation_archive.html", user=user, evaluation=evaluation)


@router.post("/evaluations/{evaluation_id}/archive")
def archive(evaluation: StaffEvaluation, session: SessionDep):
    archive_evaluation(evaluation)
    return redirect("/evaluations", _("Archived %(title)s: it is no longer listed.", title=evaluation.title))
