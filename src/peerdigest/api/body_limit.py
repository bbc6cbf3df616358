"""A request body larger than the API needs is refused with 413 before it is read into memory.

JSON bodies are small (options, an evaluation, a page of scores): they may be
REQUEST_MAX_BYTES long. A feedback file (multipart) may be IMPORT_MAX_BYTES,
plus room for the form around it. The declared Content-Length is checked
first; a body sent in chunks without one is counted as it arrives.
"""

from __future__ import annotations

from fastapi import HTTPException, status
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from peerdigest.config import Settings

FORM_OVERHEAD = 64 * 1024  # the multipart boundaries and the other fields of an import form


def limit_for(settings: Settings, content_type: str) -> int:
    if content_type.startswith("multipart/form-data"):
        return settings.import_max_bytes + FORM_OVERHEAD
    return settings.request_max_bytes


def too_large(limit: int) -> str:
    return f"The request body is larger than {limit} bytes; send less at once (see REQUEST_MAX_BYTES)."


class BodyLimit:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        limit = limit_for(self.settings, headers.get("content-type", ""))
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await JSONResponse({"detail": too_large(limit)}, status_code=status.HTTP_413_CONTENT_TOO_LARGE)(
                scope, receive, send
            )
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                # FastAPI passes an HTTPException raised while it reads the body on as the answer.
                raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, too_large(limit))
            return message

        await self.app(scope, counted, send)
