"""What every command shares: the consoles, the settings, and one-sentence exits when a service is missing."""

from __future__ import annotations

import logging

import typer
from rich.console import Console

from pydantic import ValidationError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from peerdigest.config import Settings, explain, load_settings

console = Console()
err = Console(stderr=True)


# Errors of reaching a service, not of what was asked of it: a failing statement stays a traceback (a bug).
OUTAGES = (OperationalError, InterfaceError, PoolTimeoutError, RedisConnectionError, RedisTimeoutError)


def outage_sentence(exc: Exception) -> str:
    """'The database does not answer (connection refused …): start it or check DATABASE_URL.'"""
    if isinstance(exc, (RedisConnectionError, RedisTimeoutError)):
        return f"Redis does not answer ({exc}): start it (`make up`) or check REDIS_URL."
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    return f"The database does not answer ({reason}): start it or check DATABASE_URL."


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except ValidationError as exc:
        err.print(f"Configuration error: {explain(exc)}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


def redis_or_exit(settings: Settings):
    """The queue connection for a service and its URL; exits with a clear message when Redis does not answer."""
    from peerdigest.queue.connection import answers, configured_url, describe

    url = configured_url(settings)
    client = connect_or_exit(url)
    if not answers(client):
        err.print(
            f"[red]Redis does not answer at {describe(url)}.[/red] Start it (`make up`), "
            "or set REDIS_URL to a running Redis."
        )
        raise typer.Exit(1)
    return client, url


def connect_or_exit(url: str):
    from peerdigest.queue.connection import DecodingConnectionError, connect

    try:
        return connect(url)
    except DecodingConnectionError as exc:
        err.print(f"[red]Refusing a decoding Redis connection:[/red] {exc}")
        raise typer.Exit(2) from None


def refuse_if_unfit(settings: Settings, service: str) -> None:
    """Run the doctor's checks that would make `service` fail, and exit with their lines if any does."""
    from peerdigest.ops.doctor import start_problems

    problems = start_problems(settings, service)
    for finding in problems:
        err.print(finding.line(), markup=False, highlight=False, soft_wrap=True)
    if problems:
        err.print(f"Refusing to start the {service}; `peerdigest doctor` checks everything.", markup=False)
        raise typer.Exit(1)


def setup_logging(level: str = "INFO") -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def queue_connection(settings: Settings):
    """The queue connection, whether or not Redis answers now: job commands change the database of record
    first, and whatever Redis misses is caught up by the workers and the reconciler."""
    from peerdigest.queue.connection import configured_url

    return connect_or_exit(configured_url(settings))


def user_or_exit(session, email: str):
    from peerdigest.domain.auth import NotAuthenticated, user_by_email

    try:
        return user_by_email(session, email, header="--user")
    except NotAuthenticated as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
