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
