"""GET /api/v1/feedback-summaries/evaluation/{id}/export: a class's summaries as CSV, JSON, Markdown or HTML.

Streamed: the class is read and written a batch of students at a time (domain/exporter.py), each batch
in a short session of its own, so an export of any size holds one batch in memory, holds no database
connection while the client downloads, and stops when the client goes (api/streaming.py).
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query

from peerdigest.api.deps import SessionDep, SettingsDep, StaffEvaluation
from peerdigest.api.errors import ERRORS
from peerdigest.api.schemas import ExportedEvaluation
from peerdigest.api.streaming import StoppingStream
from peerdigest.db.session import API_BUSY_TIMEOUT, session_factory
from peerdigest.domain.exporter import MEDIA_TYPES, ExportCopy, ExportFormat, class_list, export, filename
from peerdigest.domain.insights import Rules

router = APIRouter(prefix="/api/v1/feedback-summaries", tags=["feedback summaries"])


@router.get(
    "/evaluation/{evaluation_id}/export",
    response_class=StoppingStream,
    responses={
        **ERRORS,
        200: {
            "model": ExportedEvaluation,
            "description": "Every student with summary, method, feedback count, generation date and stale flag; "
            "sent as an attachment (Content-Disposition) named evaluation-{id}-summaries.{format}. Streamed "
            "(chunked) as the students are read, a batch at a time: the first bytes come at once whatever the "
            "class's size, and the export stops when the client disconnects. Each batch is read as it is then: "
            "a summary written during a long download shows in its new state if its batch comes later.",
            "content": {
                media_type.split(";")[0]: {"schema": {"type": "string"}}
                for fmt, media_type in MEDIA_TYPES.items()
                if fmt != ExportFormat.json
            },
            "headers": {"Content-Disposition": {"schema": {"type": "string"}, "description": "attachment; filename=…"}},
        },
    },
    summary="Export every student's summary of an evaluation (teachers)",
)
def export_summaries(
    evaluation: StaffEvaluation,
    session: SessionDep,
    settings: SettingsDep,
    fmt: ExportFormat = Query(
        ExportFormat.csv, alias="format", description="csv | json | md (printable) | html (printable, a page per student)"
    ),
    copy: ExportCopy = Query(
        ExportCopy.teacher,
        description="teacher: with each student's contribution factor and labels, every summary approved or not; "
        "student: without them and with released summaries only, to hand out",
    ),
    delimiter: Literal[",", ";"] | None = Query(
        None, description="CSV only: the cell separator; default ; for a Dutch evaluation (as Dutch spreadsheets expect), "
        "else ,"
    ),
) -> StoppingStream:
    listed = class_list(session, evaluation, copy)
    # The request's session has read all the stream needs from it: hand its connection back now, not
    # when the stream ends (closing again at the request's end is harmless). The batches read in their own.
    session.close()
    sessions = session_factory(settings.database_url, API_BUSY_TIMEOUT)
    return StoppingStream(
        export(listed, sessions, fmt, Rules.from_settings(settings), delimiter),
        media_type=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{filename(evaluation, fmt)}"'},
    )
