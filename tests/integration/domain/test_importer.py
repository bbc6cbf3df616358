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
