"""The import page: upload a feedback file, see its problems by line or what it would change, then import it.

Checking runs the real import (`domain/importer.import_file`) and rolls it back,
so "what would change" is exactly what importing does. The check answers a
fragment of the page that the page's script puts under the form; the file stays
selected in the browser, so "Import" sends the same file again and nothing
uploaded has to be kept on the server in between.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import File, Form, Request, UploadFile, status
from pydantic import AfterValidator

from peerdigest.api.deps import SessionDep, SettingsDep, StaffUser
from peerdigest.config import Language, Settings
from peerdigest.db.models import User, no_nul
from peerdigest.db.session import discard_writes
from peerdigest.domain.evaluations import evaluations_of
from peerdigest.domain.importer import Encoding, ImportReport, import_file, too_large
from peerdigest.i18n import _
from peerdigest.web.pages import page_router, redirect, render

router = page_router()

Title = Annotated[str, Form(min_length=1, max_length=300), AfterValidator(no_nul)]
Upload = Annotated[UploadFile, File()]
# An empty choice in the form means "not given".
Choice = Annotated[str, Form()]


def _run(session, settings: Settings, user: User, file: UploadFile, title: str, language: str, encoding: str) -> ImportReport:
    """The import into the user's school, in the caller's transaction: the caller commits or rolls back."""
    limit = settings.import_max_bytes
    data = file.file.read(limit + 1)
    if len(data) > limit:
        return ImportReport(problems=[too_large(file.size or len(data), limit)])
    return import_file(
        session, data, school=user.school.name, evaluation=title.strip(),
        language=Language(language) if language else None, default_language=settings.summary_language,
        encoding=Encoding(encoding) if encoding else None,
    )


def _page(request: Request, session, user: User, report: ImportReport | None = None, status_code: int = 200, **form):
    titles = [e.title for e in evaluations_of(session, user, staff=True)]
    return render(request, "import.html", status_code=status_code, user=user, titles=titles, report=report,
                  languages=list(Language), encodings=list(Encoding), form=form)


@router.get("/import")
def import_page(request: Request, user: StaffUser, session: SessionDep):
    return _page(request, session, user)


@router.post("/import/check")
def check(request: Request, user: StaffUser, session: SessionDep, settings: SettingsDep, file: Upload,
          evaluation: Title, language: Choice = "", encoding: Choice = ""):
    report = _run(session, settings, user, file, evaluation, language, encoding)
    discard_writes(session)  # a check: the import ran to find its problems, and is not kept
    return render(request, "_import_check.html", user=user, report=report, title=evaluation, filename=file.filename)


@router.post("/import")
def do_import(request: Request, user: StaffUser, session: SessionDep, settings: SettingsDep, file: Upload,
              evaluation: Title, language: Choice = "", encoding: Choice = ""):
    report = _run(session, settings, user, file, evaluation, language, encoding)
    if not report.ok:
        discard_writes(session)
        return _page(request, session, user, report, status.HTTP_422_UNPROCESSABLE_CONTENT,
                     evaluation=evaluation, language=language, encoding=encoding, filename=file.filename)
    return redirect(f"/evaluations/{report.evaluation_id}",
                    _("Imported %(file)s: %(changes)s", file=file.filename, changes=report.said()))
