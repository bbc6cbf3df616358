"""A small local server that speaks the OpenAI chat-completions API (and Ollama's own `/api/chat`), for tests
and benchmarks.

It runs in a thread on 127.0.0.1 and answers from a script: each request takes
the next scripted behaviour (or the default one when the script is empty), so
a test can say "first a 500, then a good answer" and check what the worker did.

It behaves like a real inference server where that matters for throughput:
`capacity` requests are served at once and the rest wait in line (Ollama's
parallel slots, vLLM's batch), every answer takes at least `latency` seconds,
and `overload(seconds)` makes it answer 429 or 503 with `Retry-After` for a
while, as a server whose queue is full does. It counts every request, the most
it ever had in flight, and the requests whose client hung up before the answer
(a cancelled job's work horse killed mid-request).
"""

from __future__ import annotations

import json
import re
import select
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from peerdigest.testing import local_server

HANGUP_CHECK = 0.05  # seconds between two looks at whether the client is still there


@dataclass
class Reply:
    """One scripted behaviour: a text answer, an HTTP error (with `Retry-After` when given), or a delay first."""

    text: str | None = None
    status: int = 200
    delay: float = 0.0
    retry_after: float | None = None


def reply_with_sentences(request: dict) -> Reply:
    """The default: a plain, well-formed summary of the data the request holds (what `careful_model` writes,
    so the output guard accepts it for any student), or a generic one for a request without data."""
    prompt = json.dumps(request.get("messages", []), ensure_ascii=False)
    if "<feedback_data>" in prompt:
        return careful_model(request)
    if "Dutch" in prompt or "Nederlands" in prompt:
        return Reply("Je teamgenoten waarderen je inzet en je heldere uitleg. Een tip: spreek aan het begin van "
                     "elke week af wie wat doet.")
    return Reply("Your teammates value your effort and your clear explanations. A tip: agree at the start of each "
                 "week who does what.")


def careful_model(request: dict) -> Reply:
    """A stand-in for a model that follows the prompt: it reads the data block and nothing else.

    Strengths first (the best-scored criterion), the clearly weakest criterion
    as the point to work on, one tip; in the language the data asks for.
    """
    user = next(m["content"] for m in request["messages"] if m["role"] == "user")
    data = json.loads(re.search(r"<feedback_data>\n(.*?)\n</feedback_data>", user, re.S).group(1))
    scores = sorted(data["scores"], key=lambda s: s["average"])
    weakest = scores[0]["criterion"] if len(scores) > 1 and scores[0]["average"] <= scores[1]["average"] - 0.75 else None
    if data["language"] == "nl":
        text = [f"Je teamgenoten waarderen vooral je {scores[-1]['criterion'].lower()}." if scores
                else "Je teamgenoten zijn tevreden over je bijdrage aan het project."]
        if weakest:
            text.append(f"Een punt om aan te werken is {weakest.lower()}.")
        text.append("Een tip: bespreek aan het begin van elke week met je groep wie wat doet.")
    else:
        text = [f"Your teammates especially value your {scores[-1]['criterion'].lower()}." if scores
                else "Your teammates are happy with your contribution to the project."]
        if weakest:
            text.append(f"One point to work on is {weakest.lower()}.")
        text.append("A tip: at the start of each week, agree with your group who does what.")
    return Reply(" ".join(text))


@dataclass
class FakeLLM:
    default: Callable[[dict], Reply] = reply_with_sentences
    capacity: int | None = None  # requests served at once; None: no limit
    latency: float = 0.0  # seconds every answer takes at least, once it is served
    script: deque = field(default_factory=deque)
    requests: list = field(default_factory=list)
    in_flight: int = 0  # requests being served (not those waiting in line)
    max_in_flight: int = 0
    abandoned: int = 0  # requests whose client hung up before the answer was ready
    overloaded: int = 0  # requests answered 429/503 by `overload`
    _overload: tuple[float, int, float] | None = None  # (until, status, retry_after)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _slots: threading.Semaphore | None = None
    _server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        return f"{local_server.base_url(self._server)}/v1"

    @property
    def ollama_url(self) -> str:
        """Where Ollama's own API is served (LLM_PROVIDER=ollama): the same models, its request and error shapes."""
        return local_server.base_url(self._server)

    def then(self, *replies: Reply) -> FakeLLM:
        self.script.extend(replies)
        return self

    def overload(self, seconds: float, *, status: int = 429, retry_after: float = 2) -> FakeLLM:
        """Answer every request with `status` and `Retry-After: retry_after` for the next `seconds`."""
        self._overload = (time.monotonic() + seconds, status, retry_after)
        return self

    def reset(self) -> None:
        """Forget the script, the counts and any overload, keeping the server running."""
        with self._lock:
            self.script.clear()
            self.requests.clear()
            self.max_in_flight = self.abandoned = self.overloaded = 0
            self._overload = None

    def _next_reply(self, request: dict) -> Reply:
        with self._lock:
            self.requests.append(request)
            if self._overload and time.monotonic() < self._overload[0]:
                self.overloaded += 1
                return Reply(status=self._overload[1], retry_after=self._overload[2])
            return self.script.popleft() if self.script else self.default(request)

    def start(self) -> FakeLLM:
        fake = self
        self._slots = threading.Semaphore(self.capacity) if self.capacity else None

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def do_GET(self):
                if self.path.rstrip("/").endswith("/models"):
                    self._json(200, {"object": "list", "data": [{"id": "fake-model", "object": "model"}]})
                elif self.path.rstrip("/") == "/api/tags":
                    self._json(200, {"models": [{"name": "fake-model"}]})
                else:
                    self._json(404, {"error": {"message": "not found"}})

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                request = json.loads(self.rfile.read(length) or b"{}")
                reply = fake._next_reply(request)
                if reply.status != 200 and not reply.delay:
                    self._error(reply)  # an overloaded server turns requests away before they wait in line
                    return
                if fake._slots is not None:
                    fake._slots.acquire()
                with fake._lock:
                    fake.in_flight += 1
                    fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
                try:
                    if not self._wait(max(reply.delay, fake.latency)):
                        with fake._lock:
                            fake.abandoned += 1
                        return
                    if reply.status != 200:
                        self._error(reply)
                        return
                    if self._ollama:
                        self._json(200, {"model": request.get("model", "fake-model"), "done": True,
                                         "done_reason": "stop", "message": {"role": "assistant", "content": reply.text}})
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
                    if fake._slots is not None:
                        fake._slots.release()

            def _wait(self, seconds: float) -> bool:
                """Sleep `seconds` (the model "thinking"); False as soon as the client hangs up."""
                deadline = time.monotonic() + seconds
                while (left := deadline - time.monotonic()) > 0:
                    readable, _, _ = select.select([self.connection], [], [], min(left, HANGUP_CHECK))
                    if readable and not self.connection.recv(1, socket.MSG_PEEK):
                        return False
                return True

            @property
            def _ollama(self) -> bool:
                return self.path.rstrip("/") == "/api/chat"

            def _error(self, reply: Reply) -> None:
                headers = {} if reply.retry_after is None else {"Retry-After": f"{reply.retry_after:g}"}
                # Ollama answers an error as a bare string; the OpenAI API as an object with a type.
                body = ({"error": f"scripted {reply.status}"} if self._ollama
                        else {"error": {"message": f"scripted {reply.status}", "type": "server_error"}})
                self._json(reply.status, body, headers)

            def _json(self, status: int, body: dict, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        self._server = local_server.serve(Handler)
        return self

    def stop(self) -> None:
        local_server.shutdown(self._server)
