"""Bad input answers 422 with one sentence a person understands, like every other error here.

FastAPI's own 422 carries a list of pydantic error objects in `detail`; clients
and people reading it expect the `{"detail": "..."}` of every other error. The
list is still there, under `errors`, for programs that want the field paths.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

WHERE = {"path": "in the URL", "query": "in the query string", "header": "in the headers", "body": "in the body"}


def describe(error: dict) -> str:
    """'evaluation_id in the URL: Input should be a valid integer (got 'abc')'."""
    location = list(error.get("loc", ()))
    source = WHERE.get(location[0], "") if location else ""
    field = ".".join(str(part) for part in location[1:]) or "request"
    got = f" (got {error['input']!r})" if error.get("type") != "missing" and "input" in error else ""
    place = f"{field} {source}".strip()
    return f"{place}: {error.get('msg', 'invalid value')}{got}"


async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    detail = "; ".join(describe(e) for e in errors[:5]) + ("; …" if len(errors) > 5 else "")
    return JSONResponse(
        {"detail": f"Invalid request: {detail}.", "errors": jsonable_encoder(errors)},
        status_code=422,
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _invalid)
