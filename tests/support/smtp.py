"""A real SMTP server for tests (aiosmtpd) on a free port of 127.0.0.1, keeping every message it accepts."""

from __future__ import annotations

import socket
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class MailServer:
    """Start, stop and start again on the same port (a server that goes away for a while); `messages` as received."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.messages: list[EmailMessage] = []
        self.refuse = False  # True: every recipient is refused (550), as for an address that does not exist
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    async def handle_RCPT(self, server, session, envelope, address, options) -> str:  # aiosmtpd's handler hooks
        if self.refuse:
            return "550 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"

    def start(self) -> MailServer:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def to(self, address: str) -> list[EmailMessage]:
        return [message for message in self.messages if message["To"] == address]


@pytest.fixture
def mail_server():
    """A running SMTP server; point SMTP_URL at `mail_server.url`."""
    server = MailServer().start()
    yield server
    server.stop()
