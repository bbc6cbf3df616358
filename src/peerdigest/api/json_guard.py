"""A JSON body that no route can store or answer is refused with 422 before any route reads it.

Two kinds of valid JSON break the layers below the parser:

- a lone UTF-16 surrogate (`"\\ud800"`, or its raw bytes, which Python's reader
  lets through too) becomes a Python string that cannot be written as UTF-8: not
  to the database, not into an answer (a 500, and a half-written answer that
  resets the connection);
- nesting deeper than any of our bodies has (`[[[[…]]]]`) costs recursion in the
  reader and in pydantic, and at some depth a RecursionError.

Every route's bodies are flat records, so MAX_DEPTH levels is far more than any
needs. The check reads the body (already bounded by `BodyLimit`, which wraps
this middleware) and hands the same bytes on; a body that is not JSON at all is
left to the route's own 422.
"""

from __future__ import annotations

import email.message
import json

from fastapi import HTTPException, status
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_DEPTH = 32


def is_json(content_type: str | None) -> bool:
    """Whether FastAPI reads a body of this content type as JSON (application/json or application/*+json)."""
    if not content_type:
        return False
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (subtype == "json" or subtype.endswith("+json"))


def problem(value: object) -> str | None:
    """Why a parsed JSON value cannot be taken, or None when it can."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if depth > MAX_DEPTH:
            return f"The JSON body is nested more than {MAX_DEPTH} levels deep."
        if isinstance(item, dict):
            pending.extend((key, depth) for key in item)
            pending.extend((part, depth + 1) for part in item.values())
        elif isinstance(item, list):
            pending.extend((part, depth + 1) for part in item)
        elif isinstance(item, str) and not _writable(item):
            return "The JSON body contains a lone UTF-16 surrogate (like \\ud800), which is not a character."
    return None


def _writable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def refusal(body: bytes) -> str | None:
    try:
        value = json.loads(body)
    except RecursionError:
        return f"The JSON body is nested more than {MAX_DEPTH} levels deep."
    except ValueError:  # not JSON (or not UTF-8): the route's own reader says so
        return None
    return problem(value)


class JsonGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_json(Headers(scope=scope).get("content-type")):
            await self.app(scope, receive, send)
            return
        chunks = []
        try:
            while True:
                message = await receive()
                if message["type"] != "http.request":
                    break
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    break
        except HTTPException as exc:  # BodyLimit's 413, raised while the body arrives
            await JSONResponse({"detail": exc.detail}, status_code=exc.status_code)(scope, receive, send)
            return
        body = b"".join(chunks)
        reason = refusal(body)
        if reason is not None:
            answer = JSONResponse({"detail": reason}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)
            await answer(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)
