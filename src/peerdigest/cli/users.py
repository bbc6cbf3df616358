"""`peerdigest users`: add the teachers, admins (and students) of a school, list them, end and restore access,
and delete what one person gave as a reviewer.

No command deletes a person: `disable` ends their access and `enable` restores
it. Deleting someone's given feedback asks for `--yes`, since it cannot be undone.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from peerdigest.cli.common import console, err, settings_or_exit
from peerdigest.db.models import Role

users_app = typer.Typer(
    help="The people of a school: add a teacher or admin, list who is there, end or restore someone's access.",
    no_args_is_help=True,
)

Email = Annotated[str, typer.Argument(help="Their email")]


def _refuse(message: str) -> None:
    err.print(message, style="red", markup=False, soft_wrap=True)
    raise typer.Exit(1)


@users_app.command("add")
def users_add(
    email: Annotated[str, typer.Argument(help="Their email: what they sign in with")],
    name: Annotated[str, typer.Option(help="Their name, as teachers and students see it")],
    school: Annotated[str, typer.Option(help="School name; created when missing")],
    role: Annotated[Role, typer.Option(help="teacher, admin or student")] = Role.teacher,
    promote: Annotated[
        bool, typer.Option(help="Confirm that a student of the school becomes a teacher or admin (and so sees "
                           "every class's factors, labels and flagged comments)")
    ] = False,
) -> None:
    """Add a user to a school (or update the name and role of one who is there)."""
    from peerdigest.db.session import session_scope
    from peerdigest.domain.users import PromotionUnconfirmed, UserError, add_user

    settings = settings_or_exit()
    try:
        with session_scope(settings.database_url) as session:
            added = add_user(session, email=email, name=name, school=school, role=role, promote=promote)
            line = f"{'Added' if added.created else 'Updated'} {added.user.role} {added.user.name} <{added.user.email}> in {school.strip()}."
    except PromotionUnconfirmed as exc:
        _refuse(f"{exc} Add --promote to confirm.")
    except UserError as exc:
        _refuse(str(exc))
    console.print(line, markup=False, soft_wrap=True)


@users_app.command("list")
def users_list(
    school: Annotated[str | None, typer.Option(help="Only this school")] = None,
    role: Annotated[Role | None, typer.Option(help="Only this role")] = None,
) -> None:
    """Users by school and name, with their role and whether they can sign in."""
    from peerdigest.db.session import session_scope
    from peerdigest.domain.users import disabled_by, users_of

    settings = settings_or_exit()
    table = Table("id", "school", "name", "email", "role", "access")
    ended = []  # who ended whose access: a line each under the table, where a narrow terminal does not cut it
    with session_scope(settings.database_url) as session:
        users = users_of(session, school, (role,) if role else None)
        by = disabled_by(session, users)
        for user in users:
            access = "yes"
            if user.disabled_at is not None:
                access = f"no, since {user.disabled_at:%Y-%m-%d}"
                who = by[user.id].email if user.id in by else "the command line"
                ended.append(f"{user.email}: access ended {user.disabled_at:%Y-%m-%d %H:%M} UTC by {who}.")
            table.add_row(str(user.id), user.school.name, user.name, user.email, user.role, access)
    console.print(table)
    for line in ended:
        console.print(line, markup=False, soft_wrap=True)


@users_app.command("disable")
def users_disable(email: Email) -> None:
    """End someone's access: they can no longer sign in, their sessions end and their API tokens are revoked.

    Nothing is deleted: what they gave and received stays, and `users enable` gives access back.
    """
    from peerdigest.db.session import session_scope
    from peerdigest.domain.users import UserError, disable, user_by_email

    settings = settings_or_exit()
    try:
        with session_scope(settings.database_url) as session:
            user = disable(session, user_by_email(session, email), by=None)
            line = f"{user.name} <{user.email}> can no longer sign in; `peerdigest users enable {user.email}` undoes it."
    except UserError as exc:
        _refuse(str(exc))
    console.print(line, markup=False, soft_wrap=True)


@users_app.command("enable")
def users_enable(email: Email) -> None:
    """Give a disabled user access again (API tokens revoked by `disable` stay revoked)."""
    from peerdigest.db.session import session_scope
    from peerdigest.domain.users import UserError, enable, user_by_email

    settings = settings_or_exit()
    try:
        with session_scope(settings.database_url) as session:
            user = enable(session, user_by_email(session, email))
            line = f"{user.name} <{user.email}> can sign in again."
    except UserError as exc:
        _refuse(str(exc))
    console.print(line, markup=False, soft_wrap=True)


@users_app.command("delete-feedback")
def users_delete_feedback(
    email: Email,
    yes: Annotated[bool, typer.Option("--yes", help="Really delete: without it, only says what would be deleted")] = False,
) -> None:
    """Delete every score and comment someone gave as a reviewer; the summaries built on them become stale.

    Without --yes it only says what would be deleted. The person stays.
    """
    from peerdigest.db.session import session_scope
    from peerdigest.domain.users import UserError, delete_given_feedback, given_feedback, user_by_email

    settings = settings_or_exit()
    try:
        with session_scope(settings.database_url) as session:
            user = user_by_email(session, email)
            given = given_feedback(session, user)
            titles = ", ".join(e.title for e in given.evaluations) or "no evaluation"
            if not yes:
                line = (f"{user.name} gave {given.scores} scores ({given.comments} with a comment) in {titles}. "
                        "Nothing was deleted: add --yes to delete them.")
            else:
                deleted = delete_given_feedback(session, user)
                line = (f"Deleted the {deleted.scores} scores and comments {user.name} gave in {titles}; "
                        f"{deleted.stale_summaries} summaries built on them are marked stale.")
    except UserError as exc:
        _refuse(str(exc))
    console.print(line, markup=False, soft_wrap=True)
