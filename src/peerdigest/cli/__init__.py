"""The `peerdigest` command: one module per command group; rendering with Rich lives here, not in the domain."""

from __future__ import annotations

# Importing a command module registers its commands on `app`; services first, so they lead --help.
from peerdigest.cli import services  # noqa: F401, I001
from peerdigest.cli import data  # noqa: F401, I001
import sys

from peerdigest.cli.app import app
from peerdigest.cli.common import OUTAGES, err, outage_sentence
from peerdigest.cli.jobs import jobs_app
from peerdigest.cli.queues import queues_app
from peerdigest.cli.tokens import tokens_app
from peerdigest.cli.users import users_app

app.add_typer(queues_app, name="queues")
app.add_typer(jobs_app, name="jobs")
app.add_typer(tokens_app, name="tokens")
app.add_typer(users_app, name="users")


def main() -> None:
    # Typer would print a traceback of many screens for what is one fact: a service is not there.
    try:
        app()
    except OUTAGES as exc:
        err.print(outage_sentence(exc), markup=False, highlight=False, soft_wrap=True)
        sys.exit(1)
