"""Importing a feedback file into the database: idempotent, all or nothing, and honest about stale summaries."""

from sqlalchemy import func, select

from peerdigest.db.models import (
    Allocation,
    Criterion,
    Evaluation,
    FeedbackSummary,
    School,
    Score,
    User,
)
from peerdigest.db.session import session_scope
from peerdigest.domain.importer import import_file
from tests.support.feedback import EXAMPLE_CSV as EXAMPLE
from tests.support.feedback import store_summary

WHERE = dict(school="Zonnecollege", evaluation="Projectweek")


def counts(session) -> dict[str, int]:
    return {m.__name__: session.scalar(select(func.count()).select_from(m)) for m in (School, User, Criterion, Allocation, Score)}


def store_summary_of(session, evaluation_id: int, email: str) -> FeedbackSummary:
    return store_summary(session, evaluation_id, session.scalar(select(User.id).where(User.email == email)))


def test_the_example_file_creates_everything_once_and_a_second_import_changes_nothing(settings):
    with session_scope(settings.database_url) as session:
        first = import_file(session, EXAMPLE, language="nl", **WHERE)
    assert first.ok, first.problems
    assert (first.users_created, first.criteria_created, first.allocations_created, first.scores_created) == (3, 2, 7, 13)
    with session_scope(settings.database_url) as session:
        before = counts(session)
        evaluation = session.get(Evaluation, first.evaluation_id)
        assert (evaluation.title, evaluation.language) == ("Projectweek", "nl")
        assert [c.name for c in evaluation.criteria] == ["Samenwerking", "Inzet"]
        noah = session.scalar(select(User).where(User.email == "noah@school.example"))
        assert (noah.name, noah.role, noah.school.name) == ("Noah de Boer", "student", "Zonnecollege")
        self_review = session.scalar(select(Allocation).where(Allocation.reviewer_id == noah.id, Allocation.reviewee_id == noah.id))
        assert self_review.is_self

        again = import_file(session, EXAMPLE.read_bytes(), **WHERE)
        assert again.ok and not again.changed
        assert again.evaluation_id == first.evaluation_id and again.scores_unchanged == 13
        assert counts(session) == before


def test_a_corrected_file_updates_what_changed_and_marks_only_those_summaries_stale(settings, tmp_path):
    with session_scope(settings.database_url) as session:
        evaluation_id = import_file(session, EXAMPLE, **WHERE).evaluation_id
    with session_scope(settings.database_url) as session:
        noah = store_summary_of(session, evaluation_id, "noah@school.example")
        emma = store_summary_of(session, evaluation_id, "emma@school.example")
    corrected = tmp_path / "corrected.csv"
    corrected.write_text(
        EXAMPLE.read_text(encoding="utf-8").replace(
            "Inzet;3;\"Goed begonnen; in de laatste week minder aanwezig.\"", "Inzet;2;Vaak afwezig."
        ),
        encoding="utf-8",
    )

    with session_scope(settings.database_url) as session:
        report = import_file(session, corrected, **WHERE)
    assert report.ok, report.problems
    assert (report.scores_updated, report.scores_created, report.summaries_marked_stale) == (1, 0, 1)
    with session_scope(settings.database_url) as session:
        assert session.get(FeedbackSummary, noah.id).stale is True
        assert session.get(FeedbackSummary, emma.id).stale is False
        changed = session.scalar(select(Score).where(Score.comment == "Vaak afwezig."))
        assert changed.value == 2


def test_a_new_language_marks_every_summary_of_the_evaluation_stale(settings):
    with session_scope(settings.database_url) as session:
        evaluation_id = import_file(session, EXAMPLE, language="nl", **WHERE).evaluation_id
    with session_scope(settings.database_url) as session:
        store_summary_of(session, evaluation_id, "noah@school.example")
        store_summary_of(session, evaluation_id, "emma@school.example")
    with session_scope(settings.database_url) as session:
        report = import_file(session, EXAMPLE, language="en", **WHERE)
    assert report.summaries_marked_stale == 2


def test_students_of_another_school_are_refused_and_nothing_is_written(demo_school, tmp_path):
    mixed = tmp_path / "mixed.csv"
    mixed.write_text(
        EXAMPLE.read_text(encoding="utf-8") + "emma@school.example;Emma Visser;jan@example.com;Jan de Vries;Team Zon;Inzet;4;;false\n",
        encoding="utf-8",
    )
    with session_scope(demo_school.database_url) as session:
        before = counts(session)
        report = import_file(session, mixed, **WHERE)
        assert [str(p) for p in report.problems] == ["line 15: jan@example.com belongs to another school"]
        assert counts(session) == before


def test_a_file_over_the_limit_is_refused_before_it_is_read(settings):
    with session_scope(settings.database_url) as session:
        report = import_file(session, EXAMPLE, max_bytes=100, **WHERE)
        assert not report.ok and "the limit is 100 bytes" in report.problems[0].message
        assert counts(session)["School"] == 0


DUTCH_EXPORT = EXAMPLE.parent / "nederlandse-export.csv"


def test_a_dutch_spreadsheet_export_imports_without_editing(settings):
    """Windows-1252, `;`, Dutch headers, decimal commas, ja/nee, comments with line breaks, a trailing empty row."""
    with session_scope(settings.database_url) as session:
        report = import_file(session, DUTCH_EXPORT, school="Lyceum", evaluation="Projectweek 3B", language="nl")
    assert report.ok, report.problems
    assert (report.rows, report.users_created, report.criteria_created, report.scores_created) == (13, 3, 2, 13)
    with session_scope(settings.database_url) as session:
        zoe = session.scalar(select(User).where(User.email == "zoe.bakker@lyceum.example"))
        assert zoe.name == "Zoë Bakker"
        comments = set(session.scalars(select(Score.comment)))
        assert "Begon sterk.\nIn de laatste week minder aanwezig;\nmaar ze heeft het ingehaald." in comments
        assert 'Werkt hard, ook in de "drukke" weken.' in comments
        assert set(session.scalars(select(Score.value))) >= {7.5, 8.5}
        scales = {(c.name, c.min_score, c.max_score) for c in session.scalars(select(Criterion))}
        assert scales == {("Samenwerking", 1, 10), ("Inzet", 1, 10)}


def test_text_the_database_cannot_store_is_a_problem_before_anything_is_written(settings):
    bad = (
        "reviewer_email,reviewer_name,reviewee_email,reviewee_name,criterion,score,comment\n"
        "a@x.example,Ann,b@x.example,Bob,Inzet,3,nul \x00 here\n"
    ).encode()
    with session_scope(settings.database_url) as session:
        report = import_file(session, bad, school="Lyceum", evaluation="Projectweek")
        long_title = import_file(session, EXAMPLE, school="Lyceum", evaluation="P" * 301)
        nul_title = import_file(session, EXAMPLE, school="Lyceum", evaluation="P\x00")
    assert [str(p) for p in report.problems] == ["line 2: comment contains a NUL character (\\0), which cannot be stored"]
    assert [str(p) for p in long_title.problems] == ["the evaluation title is 301 characters long; at most 300 fit"]
    assert [str(p) for p in nul_title.problems] == ["the evaluation title contains a NUL character (\\0)"]
    with session_scope(settings.database_url) as session:
        assert counts(session)["School"] == 0


def test_progress_is_told_after_the_rows_are_written(settings):
    told: list[tuple[int, int, int]] = []

    with session_scope(settings.database_url) as session:
        def written(done: int, total: int) -> None:
            with session.no_autoflush:  # count what was written, not what is still pending in the session
                told.append((done, total, session.scalar(select(func.count()).select_from(Score))))

        report = import_file(session, EXAMPLE, progress=written, **WHERE)
    assert report.ok
    assert told[-1] == (13, 13, 13)
    assert all(stored >= done for done, _, stored in told)


HEADER = "reviewer_email;reviewer_name;reviewee_email;reviewee_name;team;criterion;score;comment;is_self\n"


def test_an_import_never_renames_staff_nor_changes_anyones_role(demo_school, tmp_path):
    with session_scope(demo_school.database_url) as session:
        teacher = session.scalar(select(User).where(User.email == "docent@example.com"))
        school, name, role = teacher.school.name, teacher.name, teacher.role
    file = tmp_path / "staff.csv"
    file.write_text(
        HEADER + "jan@example.com;Jan de Vries;docent@example.com;Hacked Name;Team Noord;Inzet;4;;false\n",
        encoding="utf-8",
    )
    with session_scope(demo_school.database_url) as session:
        report = import_file(session, file, school=school, evaluation="Ander project")
        assert report.ok, report.problems
    with session_scope(demo_school.database_url) as session:
        teacher = session.scalar(select(User).where(User.email == "docent@example.com"))
        assert (teacher.name, teacher.role) == (name, role)


def test_a_student_in_two_teams_of_one_evaluation_is_refused_with_the_lines(settings, tmp_path):
    file = tmp_path / "teams.csv"
    file.write_text(
        HEADER
        + "emma@school.example;Emma;noah@school.example;Noah;Team Zon;Inzet;4;;false\n"
        + "liam@school.example;Liam;noah@school.example;Noah;Team Maan;Inzet;3;;false\n",
        encoding="utf-8",
    )
    with session_scope(settings.database_url) as session:
        report = import_file(session, file, **WHERE)
        assert [str(p) for p in report.problems] == [
            "line 3: noah@school.example is in team 'Team Maan' here but in team 'Team Zon' on line 2; "
            "a student is in one team per evaluation"
        ]
        assert counts(session)["Allocation"] == 0


def test_a_student_moved_to_another_team_by_a_partial_file_is_refused(settings, tmp_path):
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    first.write_text(HEADER + "emma@school.example;Emma;noah@school.example;Noah;Team Zon;Inzet;4;;false\n", encoding="utf-8")
    second.write_text(HEADER + "liam@school.example;Liam;noah@school.example;Noah;Team Maan;Inzet;3;;false\n", encoding="utf-8")
    with session_scope(settings.database_url) as session:
        assert import_file(session, first, **WHERE).ok
    with session_scope(settings.database_url) as session:
        report = import_file(session, second, **WHERE)
        assert [str(p) for p in report.problems] == [
            "line 2: noah@school.example is in team 'Team Maan' here but already in team 'Team Zon' of this evaluation; "
            "a student is in one team per evaluation"
        ]
