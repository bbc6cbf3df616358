"""Bad input answers 422 with one sentence a person understands, like every other error here.

FastAPI's own 422 carries a list of pydantic error objects in `detail`; clients
and people reading it expect the `{"detail": "..."}` of every other error. The
list is still there, under `errors`, for programs that want the field paths.

Neither echoes more than a short prefix of a bad value: a 50 MB `priority`
must not come back as a 100 MB answer. And never the value's raw characters:
what cannot be written as UTF-8 (a lone surrogate) is echoed as its escape,
so the answer itself cannot fail.
"""

from __future__ import annotations

import math

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

WHERE = {"path": "in the URL", "query": "in the query string", "header": "in the headers", "body": "in the body"}
ECHOED = 40  # characters of a bad value shown back
MAX_ERRORS = 20  # a list of a million bad ids is reported by its first few


def shortened(value: object) -> object:
    """A bad value as it may be echoed: small numbers and booleans as they are, anything else at most ECHOED characters."""
    # NaN and Infinity are numbers to Python's JSON reader but not valid JSON to write back.
    if value is None or isinstance(value, (bool, int, float)) and len(repr(value)) <= ECHOED and math.isfinite(value):
        return value
    text = value if isinstance(value, str) else repr(value)
    text = text if len(text) <= ECHOED else text[:ECHOED] + "…"
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def describe(error: dict) -> str:
    """'evaluation_id in the URL: Input should be a valid integer (got 'abc')'."""
    location = list(error.get("loc", ()))
    source = WHERE.get(location[0], "") if location else ""
    field = ".".join(str(part) for part in location[1:]) or "request"
    got = f" (got {shortened(error['input'])!r})" if error.get("type") != "missing" and "input" in error else ""
    place = f"{field} {source}".strip()
    return f"{place}: {error.get('msg', 'invalid value')}{got}"


def _shortened_part(key: str, value: object) -> object:
    if key == "input":
        return shortened(value)
    if key == "ctx" and isinstance(value, dict):
        return {name: shortened(part) for name, part in value.items()}
    return value


async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    detail = "; ".join(describe(e) for e in errors[:5]) + ("; …" if len(errors) > 5 else "")
    listed = [
        {key: _shortened_part(key, value) for key, value in e.items() if key != "url"}
        for e in errors[:MAX_ERRORS]
    ]
    return JSONResponse(
        {"detail": f"Invalid request: {detail}.", "errors": jsonable_encoder(listed)},
        status_code=422,
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, invalid_request)
