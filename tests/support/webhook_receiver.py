"""A local webhook endpoint for tests: records every POST and answers from a script of status codes."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from peerdigest.testing import local_server


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]  # names in lower case
    body: bytes
    answered: int


@dataclass
class WebhookReceiver:
    script: deque = field(default_factory=deque)  # status codes for the next requests; 200 once it is empty
    received: list[Received] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"{local_server.base_url(self._server)}/hooks/peerdigest"

    def then(self, *status_codes: int) -> WebhookReceiver:
        self.script.extend(status_codes)
        return self

    def start(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    status = receiver.script.popleft() if receiver.script else 200
                    receiver.received.append(Received({k.lower(): v for k, v in self.headers.items()}, body, status))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self._server = local_server.serve(Handler)
        return self

    def stop(self) -> None:
        local_server.shutdown(self._server)
