"""A streamed response whose work ends with it: a download the client gave up on stops being computed."""

from __future__ import annotations

from collections.abc import Iterator

from starlette.concurrency import run_in_threadpool
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send


class StoppingStream(StreamingResponse):
    """Sends the pieces of `content` as they are made and closes `content` however the response ends.

    Starlette stops asking for pieces when the client disconnects (uvicorn speaks ASGI 2.3, so
    Starlette listens for `http.disconnect` beside the stream and cancels it; with ASGI 2.4 a send
    to a gone client raises instead). It does not close the generator it stopped asking: left to the
    garbage collector, the generator's `finally` would run at some later moment on whatever thread.
    Closing it here runs it now, in the thread pool like every other step (a step may touch the database).
    """

    # StreamingResponse's parameters as they are: FastAPI reads the default `status_code` for the OpenAPI schema.
    def __init__(
        self, content: Iterator[str], status_code: int = 200, headers: dict[str, str] | None = None,
        media_type: str | None = None,
    ) -> None:
        # nginx would otherwise read the whole stream ahead into its buffers (and a file): the work would
        # outrun the client and a client that leaves would never reach us.
        super().__init__(content, status_code, {"X-Accel-Buffering": "no", **(headers or {})}, media_type)
        self.content = content

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            # The step Starlette awaited when it was cancelled has finished by now (a thread-pool step
            # cannot be abandoned), so the generator is suspended and can be closed.
            await run_in_threadpool(self.content.close)
