"""`peerdigest users`: add the teachers, admins (and students) of a school, and list them."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from peerdigest.cli.common import console, err, settings_or_exit
from peerdigest.db.models import Role

users_app = typer.Typer(help="The people of a school: add a teacher or admin, list who is there.", no_args_is_help=True)


@users_app.command("add")
def users_add(
    email: Annotated[str, typer.Argument(help="Their email: what they sign in with")],
    name: Annotated[str, typer.Option(help="Their name, as teachers and students see it")],
    school: Annotated[str, typer.Option(help="School name; created when missing")],
    role: Annotated[Role, typer.Option(help="teacher, admin or student")] = Role.teacher,
) -> None:
    """Add a user to a school (or update the name and role of one who is there)."""
    from peerdigest.db.session import session_scope
    from peerdigest.domain.users import UserError, add_user

    settings = settings_or_exit()
    try:
        with session_scope(settings.database_url) as session:
            added = add_user(session, email=email, name=name, school=school, role=role)
            line = f"{'Added' if added.created else 'Updated'} {added.user.role} {added.user.name} <{added.user.email}> in {school.strip()}."
    except UserError as exc:
        err.print(str(exc), style="red", markup=False, soft_wrap=True)
        raise typer.Exit(1) from None
    console.print(line, markup=False, soft_wrap=True)


@users_app.command("list")
def users_list(
    school: Annotated[str | None, typer.Option(help="Only this school")] = None,
    role: Annotated[Role | None, typer.Option(help="Only this role")] = None,
) -> None:
    """Users by school and name, with their role."""
    from peerdigest.db.session import session_scope
    from peerdigest.domain.users import users_of

    settings = settings_or_exit()
    table = Table("id", "school", "name", "email", "role")
    with session_scope(settings.database_url) as session:
        for user in users_of(session, school, (role,) if role else None):
            table.add_row(str(user.id), user.school.name, user.name, user.email, user.role)
    console.print(table)
