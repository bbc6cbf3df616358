"""The export read and written a batch at a time: the first piece before the rest of the class is read, no
connection held between pieces, and the same numbers as the whole class read at once."""

import csv
import io
from collections.abc import Iterator

import pytest

from sqlalchemy import event

from peerdigest.db.session import engine_for, session_factory, session_scope
from peerdigest.db.models import Evaluation
from peerdigest.domain.exporter import ExportCopy, ExportFormat, batches, class_list, export
from peerdigest.domain.insights import Rules, analyse, rating_sheet
from tests.support.classes import add_teams

TEAMS, SIZE, BATCH = 70, 3, 50  # 218 students (8 of the demo class): 5 batches, teams cut at batch edges


@pytest.fixture
def summary_reads(demo_school) -> Iterator[list[str]]:
    """Every statement that reads stored summaries (one per batch) from now on, as it is sent."""
    reads: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        if "FROM feedback_summary" in statement:
            reads.append(statement)

    engine = engine_for(demo_school.database_url)
    event.listen(engine, "before_cursor_execute", seen)
    yield reads
    event.remove(engine, "before_cursor_execute", seen)


def listed_class(settings, copy=ExportCopy.teacher):
    with session_scope(settings.database_url) as session:
        return class_list(session, session.get(Evaluation, 56), copy)


def test_each_piece_is_written_before_the_next_batch_is_read_and_no_connection_is_held_between(demo_school, summary_reads):
    with session_scope(demo_school.database_url) as session:
        add_teams(session, 56, TEAMS, SIZE, summaries=True)
    listed = listed_class(demo_school)
    assert len(listed.students) == 8 + TEAMS * SIZE
    pool = engine_for(demo_school.database_url).pool
    pieces = export(listed, session_factory(demo_school.database_url), ExportFormat.csv, Rules.from_settings(demo_school),
                    size=BATCH)

    heading = next(pieces)
    assert heading.startswith("\ufeffstudent_id") and summary_reads == []  # the heading: nothing read yet
    first = next(pieces)
    assert len(summary_reads) == 1 and first.count("\r\n") == BATCH  # one batch read, written, and sent on its way
    assert pool.checkedout() == 0  # its session is closed before the piece is handed out
    rest = list(pieces)
    assert len(summary_reads) == 5 and pool.checkedout() == 0
    rows = list(csv.DictReader(io.StringIO((heading + first + "".join(rest)).lstrip("\ufeff")), delimiter=";"))
    assert len(rows) == len({r["student_id"] for r in rows}) == len(listed.students)


def test_an_export_that_is_no_longer_read_reads_nothing_more(demo_school, summary_reads):
    with session_scope(demo_school.database_url) as session:
        add_teams(session, 56, TEAMS, SIZE, summaries=True)
    pieces = export(listed_class(demo_school), session_factory(demo_school.database_url), ExportFormat.json,
                    Rules.from_settings(demo_school), size=BATCH)
    next(pieces), next(pieces)
    pieces.close()
    assert len(summary_reads) == 1 and list(pieces) == []


def test_batches_hold_at_most_their_size_and_give_every_student_once_with_the_whole_class_numbers(demo_school):
    """Teams cut at a batch's edge still get the factors and labels their whole team gives them."""
    with session_scope(demo_school.database_url) as session:
        add_teams(session, 56, TEAMS, SIZE)
        whole = analyse(rating_sheet(session, 56), Rules.from_settings(demo_school))
    listed = listed_class(demo_school)
    parts = list(batches(listed, session_factory(demo_school.database_url), Rules.from_settings(demo_school), BATCH))
    assert [len(rows) for rows in parts] == [50, 50, 50, 50, 18]
    rows = [row for part in parts for row in part]
    assert [row.student_id for row in rows] == list(listed.students)
    assert {row.student_id: (row.factor, row.labels) for row in rows} == {
        s.student_id: (s.factor, tuple(label.code for label in s.labels)) for s in whole.students
    }
    assert any(row.labels for row in rows)  # the numbers compared are not all empty


def test_every_format_ends_whole_however_the_class_falls_into_batches(demo_school):
    with session_scope(demo_school.database_url) as session:
        add_teams(session, 56, 4, SIZE, summaries=True)
    rules, sessions = Rules.from_settings(demo_school), session_factory(demo_school.database_url)
    for copy in ExportCopy:
        listed = listed_class(demo_school, copy)
        for fmt in ExportFormat:
            one_batch = "".join(export(listed, sessions, fmt, rules, size=1000))
            many = "".join(export(listed, sessions, fmt, rules, size=3))
            assert _without_export_time(many) == _without_export_time(one_batch), (copy, fmt)


def _without_export_time(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if "exported_at" not in line)
