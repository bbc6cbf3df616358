"""The import route reads the files teachers have: an .xlsx workbook like a CSV, and names any other kind."""

import io

from openpyxl import Workbook

from peerdigest.domain.importer import template_rows
from tests.support.api import TEACHER, api_client


def _workbook(rows) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    data = io.BytesIO()
    book.save(data)
    return data.getvalue()


def test_an_excel_workbook_of_feedback_is_imported(demo_school):
    client = api_client(demo_school)
    answer = client.post("/api/v1/evaluations/import", headers=TEACHER, data={"evaluation": "Uit Excel"},
                         files={"file": ("feedback.xlsx", _workbook(template_rows("nl")))})
    assert answer.status_code == 200, answer.text
    assert (answer.json()["rows"], answer.json()["scores_created"]) == (3, 3)


def test_a_file_of_another_kind_is_refused_by_name_in_english_whatever_the_browser_reads(demo_school):
    # The API's messages are a contract and stay English; the import page says the same in Dutch.
    client = api_client(demo_school, headers={"Accept-Language": "nl"})
    answer = client.post("/api/v1/evaluations/import", headers=TEACHER, data={"evaluation": "Uit UTF-16"},
                         files={"file": ("feedback.txt", "reviewer_email,score\n".encode("utf-16"))})
    assert answer.status_code == 422
    assert answer.json()["problems"] == [
        {"line": None, "message": "This is UTF-16 text (Excel's \u201cUnicode text\u201d): save it as \u201cCSV UTF-8\u201d or as .xlsx."}]
