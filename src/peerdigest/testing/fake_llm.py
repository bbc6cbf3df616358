"""A small local server that speaks the OpenAI chat-completions API, for tests and benchmarks.

It runs in a thread on 127.0.0.1 and answers from a script: each request takes
the next scripted behaviour (or the default one when the script is empty), so
a test can say "first a 500, then a good answer" and check what the worker did.
It records every request and the most requests it ever had in flight at once.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from peerdigest.testing import local_server


@dataclass
class Reply:
    """One scripted behaviour: a text answer, an HTTP error, or a delay first."""

    text: str | None = None
    status: int = 200
    delay: float = 0.0


def reply_with_sentences(request: dict) -> Reply:
    """The default: a plain, well-formed summary in the language the prompt asks for."""
    prompt = json.dumps(request.get("messages", []), ensure_ascii=False)
    if "Dutch" in prompt or "Nederlands" in prompt:
        return Reply("Je teamgenoten waarderen je inzet en je heldere uitleg. Een punt om aan te werken is plannen: "
                     "spreek aan het begin van elke week af wie wat doet.")
    return Reply("Your teammates value your effort and your clear explanations. One point to work on is planning: "
                 "agree at the start of each week who does what.")


@dataclass
class FakeLLM:
    default: Callable[[dict], Reply] = reply_with_sentences
    script: deque = field(default_factory=deque)
    requests: list = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        return f"{local_server.base_url(self._server)}/v1"

    def then(self, *replies: Reply) -> FakeLLM:
        self.script.extend(replies)
        return self

    def start(self) -> FakeLLM:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def do_GET(self):
                if self.path.rstrip("/").endswith("/models"):
                    self._json(200, {"object": "list", "data": [{"id": "fake-model", "object": "model"}]})
                else:
                    self._json(404, {"error": {"message": "not found"}})

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                request = json.loads(self.rfile.read(length) or b"{}")
                with fake._lock:
                    fake.requests.append(request)
                    reply = fake.script.popleft() if fake.script else fake.default(request)
                    fake.in_flight += 1
                    fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
                try:
                    if reply.delay:
                        time.sleep(reply.delay)
                    if reply.status != 200:
                        self._json(reply.status, {"error": {"message": f"scripted {reply.status}", "type": "server_error"}})
                        return
                    self._json(200, {
                        "id": f"chatcmpl-{len(fake.requests)}",
                        "object": "chat.completion",
                        "created": int(time.time()),
                        "model": request.get("model", "fake-model"),
                        "choices": [{"index": 0, "finish_reason": "stop",
                                     "message": {"role": "assistant", "content": reply.text}}],
                        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                    })
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (its timeout); that is what a hang test wants
                finally:
                    with fake._lock:
                        fake.in_flight -= 1

            def _json(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = local_server.serve(Handler)
        return self

    def stop(self) -> None:
        local_server.shutdown(self._server)
