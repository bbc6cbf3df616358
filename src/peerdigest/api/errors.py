"""The error answers routes declare for the OpenAPI document, shared so every route says them alike.

Each is a `Problem`: `{"detail": "a sentence"}` (see api/validation.py for the 422s).
"""

from __future__ import annotations

from peerdigest.api.schemas import Problem


def problem(description: str) -> dict:
    """One declared error answer: a `Problem` body, and when it happens."""
    return {"model": Problem, "description": description}


ERRORS = {
    401: problem("No or unknown user"),
    403: problem("Not allowed for this user"),
    404: problem("Evaluation, student or job not found (or of another school)"),
}
