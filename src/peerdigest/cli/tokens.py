"""`peerdigest tokens`: API tokens for AUTH_MODE=token."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from peerdigest.cli.common import console, err, settings_or_exit, user_or_exit
from peerdigest.db.models import MAX_ID

tokens_app = typer.Typer(help="API tokens for AUTH_MODE=token: create, list, revoke.", no_args_is_help=True)


@tokens_app.command("create")
def tokens_create(
    user: Annotated[str, typer.Option(help="Email of the user the token acts as")],
    name: Annotated[str, typer.Option(help="What the token is for, to recognise it in `tokens list`")] = "",
    days: Annotated[int, typer.Option(min=0, help="Days until it expires; 0: never")] = 90,
) -> None:
    """Create an API token. It is printed once and cannot be shown again."""
    from datetime import timedelta

    from peerdigest.db.session import session_scope
    from peerdigest.domain.auth import create_token

    settings = settings_or_exit()
    with session_scope(settings.database_url) as session:
        owner = user_or_exit(session, user)
        issued = create_token(session, owner, name=name, expires_in=timedelta(days=days) if days else None)
        expiry = f"expires {issued.token.expires_at:%Y-%m-%d}" if issued.token.expires_at else "never expires"
        err.print(f"Token {issued.token.id} for {owner.email} ({expiry}). Store it now: it is not shown again.")
    print(issued.secret)  # alone on standard output, so a script can capture it


@tokens_app.command("list")
def tokens_list(user: Annotated[str | None, typer.Option(help="Only the tokens of this email")] = None) -> None:
    """Tokens with their owner, state and last use (never the tokens themselves)."""
    from peerdigest.db.session import session_scope
    from peerdigest.domain.auth import token_state, tokens

    settings = settings_or_exit()
    with session_scope(settings.database_url) as session:
        owner = user_or_exit(session, user) if user else None
        table = Table("id", "user", "name", "state", "created", "expires", "last used")
        for token in tokens(session, owner):
            table.add_row(
                str(token.id), token.user.email, token.name, token_state(token), f"{token.created_at:%Y-%m-%d}",
                f"{token.expires_at:%Y-%m-%d}" if token.expires_at else "never",
                f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never",
            )
    console.print(table)


@tokens_app.command("revoke")
def tokens_revoke(token_id: Annotated[int, typer.Argument(min=1, max=MAX_ID, help="The id shown by `tokens list`")]) -> None:
    """Revoke a token: from now on it is refused."""
    from peerdigest.db.session import session_scope
    from peerdigest.domain.auth import revoke_token

    settings = settings_or_exit()
    with session_scope(settings.database_url) as session:
        if revoke_token(session, token_id) is None:
            err.print(f"[red]No token {token_id}.[/red]")
            raise typer.Exit(1)
    console.print(f"Token {token_id} revoked.")
