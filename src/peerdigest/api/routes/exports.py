"""GET /api/v1/feedback-summaries/evaluation/{id}/export: a class's summaries as CSV, JSON, Markdown or HTML."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Response

from peerdigest.api.deps import SessionDep, SettingsDep, StaffEvaluation
from peerdigest.api.errors import ERRORS
from peerdigest.api.schemas import ExportedEvaluation
from peerdigest.domain.exporter import MEDIA_TYPES, ExportCopy, ExportFormat, export, filename
from peerdigest.domain.insights import Rules

router = APIRouter(prefix="/api/v1/feedback-summaries", tags=["feedback summaries"])


@router.get(
    "/evaluation/{evaluation_id}/export",
    response_class=Response,
    responses={
        **ERRORS,
        200: {
            "model": ExportedEvaluation,
            "description": "Every student with summary, method, feedback count, generation date and stale flag; "
            "sent as an attachment (Content-Disposition) named evaluation-{id}-summaries.{format}",
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
) -> Response:
    return Response(
        export(session, evaluation, fmt, copy, Rules.from_settings(settings), delimiter),
        media_type=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{filename(evaluation, fmt)}"'},
    )
