"""Alembic, driven from code so `peerdigest migrate` needs no alembic.ini."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from peerdigest.db.session import engine_for

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` to `revision`, creating a SQLite file's folder first."""
    if url.startswith("sqlite:///") and ":memory:" not in url:
        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), revision)


def pending(url: str) -> tuple[str | None, str]:
    """(current revision, head revision) of the database at `url`."""
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    with engine_for(url).connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    return current, head
