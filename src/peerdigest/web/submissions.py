"""The student's side of collecting: the evaluations they score teammates in, and the form to do it.

The form saves as the student goes (`static/submission_form.js` posts each
changed answer to `…/save`, and flushes with `sendBeacon` when the tab closes);
without JavaScript its Save button posts the whole form to the same route. Every
save goes through `submissions.save_scores`, the function the scores API uses,
so the form writes the very rows the API and the importer write.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from starlette.datastructures import FormData

from peerdigest.api.deps import CurrentUser, ReviewerEvaluation, SessionDep
from peerdigest.db.models import Evaluation, User, utcnow
from peerdigest.db.session import discard_writes
from peerdigest.domain import submissions
from peerdigest.domain.evaluations import EvaluationError
from peerdigest.domain.submissions import Incomplete, NotCollecting, ScoreEntry, State
from peerdigest import i18n
from peerdigest.i18n import N_, _, format_datetime, translate
from peerdigest.web.pages import page_language, page_router, redirect, render

router = page_router()

STATE_LABELS = {State.not_started: N_("not started"), State.partway: N_("partway"), State.submitted: N_("submitted")}
# A form field: "score-<reviewee id>-<criterion id>" or "comment-<reviewee id>-<criterion id>".
FIELD = re.compile(r"^(score|comment)-(\d{1,10})-(\d{1,10})$")
# Up to this many points a scale is a row of buttons; a wider one (an imported 0-100) is a number field.
MOST_BUTTONS = 10


@dataclass(frozen=True)
class OwnEvaluation:
    evaluation: Evaluation
    state: State
    collecting: bool
    upcoming: bool  # not open yet


@router.get("/my-evaluations")
def my_evaluations(request: Request, user: CurrentUser, session: SessionDep):
    now = utcnow()
    rows = [
        OwnEvaluation(
            evaluation=e,
            state=submissions.state_of(session, e, user),
            collecting=submissions.collecting(e, now),
            upcoming=e.opens_at is not None and now < e.opens_at,
        )
        for e in submissions.reviewing(session, user)
    ]
    return render(
        request,
        "my_evaluations.html",
        user=user,
        open_rows=[r for r in rows if r.collecting],
        upcoming_rows=[r for r in rows if r.upcoming],
        closed_rows=[r for r in rows if not r.collecting and not r.upcoming],
        state_labels=STATE_LABELS,
    )


@router.get("/my-evaluations/{evaluation_id}")
def form_page(request: Request, evaluation: ReviewerEvaluation, user: CurrentUser, session: SessionDep):
    return _form(request, session, evaluation, user)


async def _posted(request: Request) -> FormData:
    """The posted form, read on the event loop, so that the routes that read its fields by name can be plain
    functions: those run in a thread, where waiting for a lock another request holds does not stop the event loop
    that must start that request's commit."""
    return await request.form()


PostedForm = Annotated[FormData, Depends(_posted)]


@router.post("/my-evaluations/{evaluation_id}/save")
def save(request: Request, form: PostedForm, evaluation: ReviewerEvaluation, user: CurrentUser, session: SessionDep):
    """Save the answers posted: a few from the autosave (which asks for JSON), or the whole form (its Save button)."""
    i18n.set_language(page_language(request, user))
    autosave = form.get("autosave") == "1"
    try:
        saved = submissions.save_scores(session, evaluation, user, _entries(form))
        session.flush()  # here, so that a collision below is answered, not left to the commit at the request's end
    except NotCollecting:
        discard_writes(session)
        return _refused(autosave, evaluation, _closed_message(), status.HTTP_403_FORBIDDEN)
    except (EvaluationError, ValueError) as exc:
        discard_writes(session)
        return _refused(autosave, evaluation, translate(exc.args[0]), status.HTTP_422_UNPROCESSABLE_CONTENT)
    except IntegrityError:
        # The same answer saved from a second tab at the same moment: nothing was written; the next save goes through.
        discard_writes(session)
        return _refused(autosave, evaluation, _collided_message(), status.HTTP_409_CONFLICT)
    message = _saved_message(saved, user)
    if autosave:
        state = State.submitted if saved.still_submitted else State.partway
        return JSONResponse({"status": message, "saved_at": saved.saved_at.isoformat(), "state": state.value,
                             "state_label": _(STATE_LABELS[state]), "submitted": saved.still_submitted})
    return redirect(_path(evaluation), message)


@router.post("/my-evaluations/{evaluation_id}/submit")
def submit(request: Request, form: PostedForm, evaluation: ReviewerEvaluation, user: CurrentUser, session: SessionDep):
    """Save the whole form as posted, then hand it in; what is missing is listed on the form, by teammate.

    The answers given are kept when the form is not complete yet: only the handing in waits.
    """
    i18n.set_language(page_language(request, user))
    missing = None
    try:
        submissions.save_scores(session, evaluation, user, _entries(form))
        try:
            submissions.submit(session, evaluation, user)
        except Incomplete as exc:
            missing = exc.missing
        session.flush()
    except NotCollecting:
        discard_writes(session)
        return redirect(_path(evaluation), _closed_message(), error=True)
    except (EvaluationError, ValueError) as exc:
        discard_writes(session)
        return redirect(_path(evaluation), translate(exc.args[0]), error=True)
    except IntegrityError:
        discard_writes(session)
        return redirect(_path(evaluation), _collided_message(), error=True)
    if missing:  # answered 422, yet the answers given are kept: the unit of work commits them
        return _form(request, session, evaluation, user, missing=missing,
                     status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)
    return redirect(_path(evaluation) + "/submitted")


@router.get("/my-evaluations/{evaluation_id}/submitted")
def submitted(request: Request, evaluation: ReviewerEvaluation, user: CurrentUser, session: SessionDep):
    form = submissions.sheet(session, evaluation, user)
    if form.state != State.submitted:
        return redirect(_path(evaluation))
    return render(request, "submitted.html", user=user, evaluation=evaluation, submission=form.submission,
                  collecting=submissions.collecting(evaluation))


def _form(request: Request, session, evaluation: Evaluation, user: User, missing=None, status_code: int = 200):
    form = submissions.sheet(session, evaluation, user)
    return render(
        request,
        "submission_form.html",
        status_code=status_code,
        user=user,
        evaluation=evaluation,
        form=form,
        collecting=submissions.collecting(evaluation),
        missing=missing or [],
        state_labels=STATE_LABELS,
        most_buttons=MOST_BUTTONS,
    )


def _entries(form) -> list[ScoreEntry]:
    """The answers in the posted fields, one per (teammate, criterion) that has a score or a comment field.

    A field left out counts as empty: the page always posts both fields of an
    answer (the autosave too), and an unticked scale posts nothing.
    """
    answers: dict[tuple[int, int], dict[str, str]] = {}
    for name, value in form.multi_items():
        found = FIELD.match(name)
        if found is None or not isinstance(value, str):
            continue
        kind, reviewee_id, criterion_id = found.group(1), int(found.group(2)), int(found.group(3))
        answers.setdefault((reviewee_id, criterion_id), {})[kind] = value
    return [
        ScoreEntry(reviewee_id, criterion_id, _score(fields.get("score", "")), fields.get("comment", ""))
        for (reviewee_id, criterion_id), fields in answers.items()
    ]


def _score(text: str) -> float | None:
    text = text.strip().replace(",", ".")  # a Dutch keyboard types 7,5
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError(_("%(text)s is not a score; give a number.", text=text[:20])) from None
    if not math.isfinite(value):
        raise ValueError(_("%(text)s is not a score; give a number.", text=text[:20]))
    return value


def _path(evaluation: Evaluation) -> str:
    return f"/my-evaluations/{evaluation.id}"


def _collided_message() -> str:
    return _("Saving collided with another save; please try again.")


def _closed_message() -> str:
    return _("This evaluation is closed: your answers can no longer be changed.")


def _saved_message(saved: submissions.Saved, user: User) -> str:
    return _("Saved %(time)s", time=format_datetime(saved.saved_at, user.school.time_zone))


def _refused(autosave: bool, evaluation: Evaluation, message: str, status_code: int):
    if autosave:
        return JSONResponse({"detail": message}, status_code=status_code)
    return redirect(_path(evaluation), message, error=True)
