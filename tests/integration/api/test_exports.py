"""Exporting a class's summaries: every student, as CSV a spreadsheet cannot be tricked by, JSON, or printable Markdown."""

import csv
import io

import pytest

from peerdigest.db.models import User
from peerdigest.db.session import session_scope
from tests.support.api import PREFIX, STUDENT_19, TEACHER, api_client
from tests.support.feedback import store_summary


@pytest.fixture
def client(demo_school):
    with session_scope(demo_school.database_url) as session:
        store_summary(session, 56, 19, text="=HYPERLINK(\"http://evil.example\",\"Click\") Jan werkt goed samen.")
        store_summary(session, 56, 20, text="Sanne communiceert helder.").stale = True
        session.get(User, 21).name = "@Mohammed El Amrani"
    return api_client(demo_school)


def export(client, fmt: str, headers=TEACHER, copy: str = "teacher"):
    return client.get(f"{PREFIX}/evaluation/56/export", params={"format": fmt, "copy": copy}, headers=headers)


def test_csv_lists_every_student_and_neutralizes_formula_like_cells(client):
    response = export(client, "csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="evaluation-56-summaries.csv"' in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
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
    teacher_rows = {int(r["student_id"]): r for r in csv.DictReader(io.StringIO(export(client, "csv").text.lstrip("\ufeff")))}
    assert teacher_rows[24]["factor"] == "1.05" and teacher_rows[24]["labels"] == "high_performer"
    assert teacher_rows[23]["labels"] == "low_performer"

    header = next(csv.reader(io.StringIO(export(client, "csv", copy="student").text.lstrip("\ufeff"))))
    assert "factor" not in header and "labels" not in header
    for fmt in ("json", "md"):
        text = export(client, fmt, copy="student").text
        assert "factor" not in text and "performer" not in text
    assert '"labels": [\n        "high_performer"' in export(client, "json").text
    assert "**factor 1.05** · signalen: high_performer" in export(client, "md").text
