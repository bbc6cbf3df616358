"""`peerdigest users` and `import --teacher`: a school that came in through an import gets a teacher who can sign in."""

import pytest

from tests.conftest import ROOT, run_cli
from tests.support.api import api_client
from tests.support.web import sign_in

pytestmark = pytest.mark.slow

EXAMPLE = str(ROOT / "examples" / "peer-feedback.csv")


def test_users_add_makes_a_teacher_of_a_new_school_and_users_list_shows_them(process_settings):
    added = run_cli(process_settings, "users", "add", "m.jansen@zonnecollege.example", "--name", "Marieke Jansen",
                    "--school", "Zonnecollege", "--role", "teacher")
    assert added.returncode == 0, added.stderr
    assert "Added teacher Marieke Jansen <m.jansen@zonnecollege.example> in Zonnecollege." in added.stdout

    listed = run_cli(process_settings, "users", "list", "--school", "Zonnecollege")
    assert "Marieke Jansen" in listed.stdout and "teacher" in listed.stdout

    client = api_client(process_settings)
    sign_in(client, "m.jansen@zonnecollege.example")
    assert "Evaluations of Zonnecollege" in client.get("/evaluations").text


def test_users_add_refuses_an_email_of_another_school_and_a_non_address(process_demo_school):
    moved = run_cli(process_demo_school, "users", "add", "jan@example.com", "--name", "Jan", "--school", "Elders")
    assert moved.returncode == 1
    assert "jan@example.com belongs to another school (Demo College)." in moved.stderr

    bad = run_cli(process_demo_school, "users", "add", "not-an-email", "--name", "X", "--school", "Elders")
    assert bad.returncode == 1
    assert "'not-an-email' is not an email address" in bad.stderr


def test_import_with_a_teacher_makes_them_the_schools_teacher_who_sees_the_new_evaluation(process_settings):
    imported = run_cli(process_settings, "import", EXAMPLE, "--school", "Zonnecollege", "--evaluation", "Projectweek 3B",
                       "--teacher", "m.jansen@zonnecollege.example", "--teacher-name", "Marieke Jansen")
    assert imported.returncode == 0, imported.stderr
    assert "Marieke Jansen <m.jansen@zonnecollege.example> is a teacher of Zonnecollege" in imported.stdout

    client = api_client(process_settings)
    sign_in(client, "m.jansen@zonnecollege.example")
    assert "Projectweek 3B" in client.get("/evaluations").text


def test_a_teacher_who_cannot_be_added_leaves_the_file_unimported(process_demo_school):
    imported = run_cli(process_demo_school, "import", EXAMPLE, "--school", "Zonnecollege", "--evaluation", "3B",
                       "--teacher", "docent@example.com")
    assert imported.returncode == 1
    assert "belongs to another school (Demo College). Nothing was imported." in imported.stderr
    assert "Zonnecollege" not in run_cli(process_demo_school, "users", "list").stdout


def test_users_commands_never_delete_a_person_and_ask_before_promoting_a_student_or_deleting_feedback(process_demo_school):
    settings = process_demo_school
    asked = run_cli(settings, "users", "add", "jan@example.com", "--name", "Jan", "--school", "Demo College")
    assert asked.returncode == 1
    assert "every class of the school; confirm to make them one. Add --promote to confirm." in asked.stderr
    promoted = run_cli(settings, "users", "add", "jan@example.com", "--name", "Jan", "--school", "Demo College", "--promote")
    assert promoted.returncode == 0, promoted.stderr

    disabled = run_cli(settings, "users", "disable", "jan@example.com")
    assert "Jan <jan@example.com> can no longer sign in; `peerdigest users enable jan@example.com` undoes it." in disabled.stdout
    listed = run_cli(settings, "users", "list", "--school", "Demo College").stdout
    assert "jan@example.com: access ended " in listed and " UTC by the command line." in listed
    assert api_client(settings).get("/api/v1/feedback-summaries/evaluation/56/student/19/quotes",
                                     headers={"X-User-Email": "jan@example.com"}).status_code == 401

    dry = run_cli(settings, "users", "delete-feedback", "jan@example.com")
    assert dry.returncode == 0 and "Nothing was deleted: add --yes to delete them." in dry.stdout
    deleted = run_cli(settings, "users", "delete-feedback", "jan@example.com", "--yes")
    assert "Deleted the" in deleted.stdout and "scores and comments Jan gave" in deleted.stdout
    again = run_cli(settings, "users", "delete-feedback", "jan@example.com")
    assert "Jan gave 0 scores" in again.stdout

    assert run_cli(settings, "users", "enable", "jan@example.com").returncode == 0
    sign_in(api_client(settings), "jan@example.com")
