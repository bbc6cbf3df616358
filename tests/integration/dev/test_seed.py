"""The demo school goes into any database: on its documented ids where they are free, on free ids where not."""

from sqlalchemy import select

from peerdigest.db.models import School, User
from peerdigest.db.session import session_scope
from peerdigest.dev.seed import seed_demo
from peerdigest.domain.feedback import evaluation_students
from tests.conftest import make_settings, run_cli

DEMO_STUDENTS = range(19, 27)


def _imported_school(database_url: str, people: int = 30, email: str = "leerling{}@zon.example") -> None:
    """A school whose users took ids 1..people, as an import into a fresh database does."""
    with session_scope(database_url) as session:
        school = School(name="Zonnecollege")
        session.add(school)
        session.flush()
        session.add_all(
            User(email=email.format(i), name=f"Leerling {i}", role="student", school_id=school.id) for i in range(people)
        )


def test_a_fresh_database_gets_the_documented_ids(database_url):
    with session_scope(database_url) as session:
        school = seed_demo(session)
    assert school.created and not school.moved
    assert school.evaluations == {56: 56, 57: 57}
    with session_scope(database_url) as session:
        assert evaluation_students(session, 56) == list(DEMO_STUDENTS)


def test_where_the_documented_ids_are_taken_the_demo_school_gets_free_ones(database_url):
    _imported_school(database_url)
    with session_scope(database_url) as session:
        school = seed_demo(session)

    assert school.created and "user 19" in school.moved and "evaluation 56" in school.describe_moved()
    students = sorted(school.users[i] for i in DEMO_STUDENTS)
    assert all(student > 30 for student in students), "none of the imported school's users"
    with session_scope(database_url) as session:
        assert evaluation_students(session, school.evaluations[56]) == students
        assert session.scalar(select(User.name).where(User.id == school.users[19])) == "Jan de Vries"
    with session_scope(database_url) as session:
        assert seed_demo(session) == type(school)(False, school.evaluations, school.users), "found again, not added twice"


def test_the_seed_command_on_an_occupied_database_says_which_ids_it_used(one_database_url, redis_url, tmp_path):
    settings = make_settings(one_database_url, redis_url, tmp_path)
    _imported_school(settings.database_url)

    seeded = run_cli(settings, "seed")

    assert seeded.returncode == 0, seeded.stderr
    assert "Demo school created" in seeded.stdout and "evaluation 56 is" in seeded.stdout


def test_the_seed_command_refuses_plainly_when_demo_emails_belong_to_another_school(one_database_url, redis_url, tmp_path):
    settings = make_settings(one_database_url, redis_url, tmp_path)
    _imported_school(settings.database_url, people=1, email="jan@example.com")

    refused = run_cli(settings, "seed")

    assert refused.returncode == 1
    assert "jan@example.com already belong to another school" in " ".join(refused.stderr.split())
    assert "Traceback" not in refused.stderr


def test_run_adds_the_demo_school_only_to_the_demos_own_database(database_url, redis_url, tmp_path):
    """`make run` never puts demo pupils into a real school's database; the default one, fresh, is the demo's."""
    from peerdigest.dev.devserver import prepare

    own = make_settings(database_url, redis_url, tmp_path)
    assert prepare(own, seed=None) is None, "a DATABASE_URL of one's own is no demo database"
    with session_scope(database_url) as session:
        assert session.scalars(select(School.name)).all() == []

    default = make_settings("", redis_url, tmp_path / "data")
    assert default.database_url == default.default_database_url
    assert prepare(default, seed=None).created, "a fresh default database is the demo's"
    assert not prepare(default, seed=None).created, "and stays the demo's on the next run"

    fresh_default = make_settings("", redis_url, tmp_path / "mine")
    prepare(fresh_default, seed=False)
    _imported_school(fresh_default.database_url)
    assert prepare(fresh_default, seed=None) is None, "a default database holding a real school is that school's"
    assert prepare(own, seed=True).created, "--seed adds it anywhere"
