"""The `peerdigest` Typer application that every command module registers on."""

from __future__ import annotations

import typer

app = typer.Typer(help="Tactful summaries of peer feedback, written by RQ workers.", no_args_is_help=True)
