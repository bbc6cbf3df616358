"""Exporting a class's summaries: every student, as CSV a spreadsheet cannot be tricked by, JSON, or printable Markdown."""

import csv
import io
import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import uvicorn
from sqlalchemy import event

from peerdigest.api.app import create_app
from peerdigest.db.models import Evaluation, User
from peerdigest.db.session import API_BUSY_TIMEOUT, engine_for, session_scope
from peerdigest.queue.connection import connect
from peerdigest.domain import review
from tests.support.api import PREFIX, STUDENT_19, TEACHER, api_client
from tests.support.classes import add_teams
from tests.support.feedback import store_summary


@pytest.fixture
def client(demo_school):
    with session_scope(demo_school.database_url) as session:
        store_summary(session, 56, 19, summary_text="=HYPERLINK(\"http://evil.example\",\"Click\") Jan werkt goed samen.")
        sanne = store_summary(session, 56, 20, summary_text="Sanne communiceert helder.")
        sanne.stale = True
        review.approve(sanne, session.get(User, 1))  # Jan's summary (19) is not approved
        session.get(User, 21).name = "@Mohammed El Amrani"
    return api_client(demo_school)


def export(client, fmt: str, headers=TEACHER, copy: str = "teacher", **params):
    params = {"format": fmt, "copy": copy, **params}
    return client.get(f"{PREFIX}/evaluation/56/export", params=params, headers=headers)


def csv_rows(response, delimiter: str = ";") -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=delimiter))


def test_csv_lists_every_student_and_neutralizes_formula_like_cells(client):
    response = export(client, "csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="evaluation-56-summaries.csv"' in response.headers["content-disposition"]
    rows = csv_rows(response)  # a Dutch evaluation: ";" between cells
    assert len(rows) == 8
    by_id = {int(r["student_id"]): r for r in rows}
    assert by_id[19]["summary"].startswith("'=HYPERLINK(")
    assert (by_id[19]["method"], by_id[19]["stale"]) == ("builtin", "false")
    assert int(by_id[19]["feedback_count"]) > 0 and by_id[19]["generated_at"]
    assert by_id[20]["stale"] == "true"
    assert by_id[21]["student_name"] == "'@Mohammed El Amrani"
    assert (by_id[22]["summary"], by_id[22]["method"], by_id[22]["feedback_count"]) == ("", "", "")


def test_json_keeps_the_text_as_written_with_the_stale_flag(client):
    body = export(client, "json").json()
    assert (body["evaluation_id"], body["language"], len(body["students"])) == (56, "nl", 8)
    by_id = {s["student_id"]: s for s in body["students"]}
    assert by_id[19]["summary"].startswith("=HYPERLINK(")
    assert by_id[20]["stale"] is True and by_id[22]["summary"] is None and by_id[22]["generated_at"] is None


def test_markdown_gives_each_student_a_printed_page_in_the_evaluation_language(client):
    response = export(client, "md", copy="student")
    assert response.headers["content-type"].startswith("text/markdown")
    text = response.text
    assert text.startswith("# Projectweek duurzaamheid: peer-evaluatie\n")
    assert text.count("\n## ") == 8 and text.count("page-break-before") == 7
    assert "## Sanne Bakker (Team Noord)\n\nSanne communiceert helder." in text
    assert "sinds deze samenvatting is geschreven" in text  # Sanne's summary is stale
    assert "_Nog geen samenvatting._" in text


def test_students_may_not_export_a_class(client):
    response = export(client, "csv", headers=STUDENT_19)
    assert response.status_code == 403


def test_the_teachers_copy_has_each_students_factor_and_labels_and_the_student_copy_has_neither(client):
    teacher_rows = {int(r["student_id"]): r for r in csv_rows(export(client, "csv"))}
    assert teacher_rows[24]["factor"] == "1.05" and teacher_rows[24]["labels"] == "high_performer"
    assert teacher_rows[23]["labels"] == "low_performer"

    header = next(csv.reader(io.StringIO(export(client, "csv", copy="student").text.lstrip("\ufeff")), delimiter=";"))
    assert "factor" not in header and "labels" not in header
    for fmt in ("json", "md"):
        text = export(client, fmt, copy="student").text
        assert "factor" not in text and "performer" not in text
    assert '"labels": [\n        "high_performer"' in export(client, "json").text
    assert "**factor 1,05** · signalen: grote bijdrage" in export(client, "md").text  # a Dutch evaluation


def test_the_csv_delimiter_is_a_choice_and_defaults_to_comma_for_english(client):
    with_commas = csv_rows(export(client, "csv", delimiter=","), delimiter=",")
    assert len(with_commas) == 8 and with_commas[0]["student_id"].isdigit()
    assert export(client, "csv", delimiter="|").status_code == 422
    english = client.get(f"{PREFIX}/evaluation/57/export", params={"format": "csv"}, headers=TEACHER)
    assert english.content.decode("utf-8-sig").startswith("student_id,student_name,")


def test_the_student_copy_holds_only_released_summaries_and_the_teachers_copy_says_which(client):
    for fmt in ("csv", "json", "md", "html"):
        student_copy = export(client, fmt, copy="student").text
        assert "Jan werkt goed samen" not in student_copy and "Sanne communiceert helder." in student_copy, fmt
    teacher = {int(r["student_id"]): r for r in csv_rows(export(client, "csv"))}
    assert (teacher[19]["released"], teacher[20]["released"]) == ("false", "true")
    assert "Nog niet vrijgegeven" in export(client, "md").text


def test_the_html_file_prints_a_page_per_student_with_school_and_evaluation(client, demo_school):
    response = export(client, "html", copy="student")
    assert response.headers["content-type"].startswith("text/html")
    assert 'filename="evaluation-56-summaries.html"' in response.headers["content-disposition"]
    page = response.text
    with session_scope(demo_school.database_url) as session:
        evaluation = session.get(Evaluation, 56)
        school, title = evaluation.school.name, evaluation.title
    assert page.count('<section class="sheet"') == 8 and "@media print" in page and "break-after: page" in page
    assert page.count(school) >= 8 and title in page and '<html lang="nl">' in page
    assert "Feedback van je teamgenoten" in page and "Nog geen samenvatting." in page
    assert "<script" not in page
    teachers = export(client, "html").text
    assert "=HYPERLINK(&#34;http://evil.example&#34;" in teachers and 'HYPERLINK("' not in teachers  # escaped
    assert "Exemplaar van de docent" in teachers and "Exemplaar van de docent" not in page


def test_markdown_carries_names_titles_and_summaries_as_text_never_as_html(client, demo_school):
    with session_scope(demo_school.database_url) as session:
        session.get(User, 22).name = "<script>alert('name')</script>"
        session.get(Evaluation, 56).title = '<img src=x onerror="alert(1)">Week'
        store_summary(session, 56, 23, summary_text="Goed <iframe src=//evil.example></iframe> werk.")
    text = export(client, "md").text
    assert "<script" not in text and "<img" not in text and "<iframe" not in text
    assert "&lt;script&gt;alert('name')&lt;/script&gt;" in text
    assert text.startswith('# &lt;img src=x onerror="alert(1)"&gt;Week\n')
    assert "Goed &lt;iframe src=//evil.example&gt;&lt;/iframe&gt; werk." in text


@contextmanager
def served(app) -> Iterator[int]:
    """`app` served by a real uvicorn in a thread, on a free port of 127.0.0.1 (yielded)."""
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listening]}, daemon=True)
    thread.start()
    try:
        _wait_for(lambda: server.started, "uvicorn to start")
        yield listening.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(30)
        listening.close()


def _wait_for(condition, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds  # generous: a wait for an event, not a measure of speed
    while not condition():
        assert time.monotonic() < deadline, f"waited {seconds} s for {what}"
        time.sleep(0.02)


def test_a_large_export_streams_and_stops_when_its_client_goes(demo_school, caplog):
    """2,008 students, 11 batches: the first batch arrives while the second cannot be read yet, and a client
    that hangs up then leaves the other nine unread and no database connection taken."""
    with session_scope(demo_school.database_url) as session:
        add_teams(session, 56, 400, 5, summaries=True)
    engine = engine_for(demo_school.database_url, API_BUSY_TIMEOUT)
    reads: list[str] = []
    client_gone = threading.Event()

    def batch_read(conn, cursor, statement, parameters, context, executemany):
        if "FROM feedback_summary" in statement:  # one read per batch
            reads.append(statement)
            if len(reads) == 2:
                client_gone.wait(60)  # the second batch is read only once the client has gone

    caplog.set_level(logging.INFO, logger="peerdigest.domain.exporter")
    event.listen(engine, "before_cursor_execute", batch_read)
    try:
        with served(create_app(demo_school, redis=connect(demo_school.redis_url))) as port:
            with socket.create_connection(("127.0.0.1", port)) as client:
                client.sendall(f"GET {PREFIX}/evaluation/56/export?format=csv HTTP/1.1\r\nHost: test\r\n"
                               f"X-User-Email: {TEACHER['X-User-Email']}\r\n\r\n".encode())
                received = b""
                while received.count(b"werkt goed samen") < 200:  # the whole first batch
                    received += client.recv(65536) or pytest.fail(f"the stream ended: {received[-300:]!r}")
                assert received.startswith(b"HTTP/1.1 200") and b"transfer-encoding: chunked" in received.lower()
                assert b"x-accel-buffering: no" in received.lower()  # nginx must not read it ahead
                assert len(reads) <= 2  # the first bytes came before the rest of the class was read
                _wait_for(lambda: len(reads) == 2, "the second batch to be asked for")
                assert engine.pool.checkedout() == 1  # the waiting batch's: the request's own session is closed
            client_gone.set()
            _wait_for(lambda: any("stopped after" in r.getMessage() for r in caplog.records), "the export to stop")
            assert len(reads) <= 3, "batches were read for a client that had gone"
            _wait_for(lambda: engine.pool.checkedout() == 0, "the stream's connection to return")
    finally:
        client_gone.set()
        event.remove(engine, "before_cursor_execute", batch_read)
    stopped = next(r.getMessage() for r in caplog.records if "stopped after" in r.getMessage())
    assert "of 2008 students" in stopped
