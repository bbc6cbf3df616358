"""The `peerdigest` command: one module per command group; rendering with Rich lives here, not in the domain."""

from __future__ import annotations

# Importing a command module registers its commands on `app`; services first, so they lead --help.
from peerdigest.cli import services  # noqa: F401, I001
from peerdigest.cli import data  # noqa: F401, I001
from peerdigest.cli.app import app
from peerdigest.cli.jobs import jobs_app
from peerdigest.cli.queues import queues_app
from peerdigest.cli.tokens import tokens_app

app.add_typer(queues_app, name="queues")
app.add_typer(jobs_app, name="jobs")
app.add_typer(tokens_app, name="tokens")


def main() -> None:
    app()
