"""Tables people hand in: CSV and .xlsx read as rows of text, and every other kind of file named by its bytes."""

import io
import zipfile
from datetime import datetime

import pytest
from openpyxl import Workbook

from peerdigest.domain.tables import Kind, Unreadable, cell_text, kind, refusal, rows


def workbook(*sheet_rows: list, extra_sheet: list | None = None) -> bytes:
    book = Workbook()
    for cells in sheet_rows:
        book.active.append(cells)
    if extra_sheet is not None:
        book.create_sheet("Second").append(extra_sheet)
    data = io.BytesIO()
    book.save(data)
    return data.getvalue()


def zipped(files: dict[str, str]) -> bytes:
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return data.getvalue()


def test_an_xlsx_workbooks_first_sheet_is_read_as_text_cells_with_their_row_numbers():
    data = workbook(["Naam", "E-mail", "Team", "Cijfer"], [], ["Jan", "jan@school.example", 3, 7.5],
                    extra_sheet=["not", "this"])
    assert kind(data) == Kind.xlsx
    assert [(line, cells) for line, cells in rows(data) if any(cells)] == [
        (1, ["Naam", "E-mail", "Team", "Cijfer"]),
        (3, ["Jan", "jan@school.example", "3", "7.5"]),
    ]


@pytest.mark.parametrize(
    ("value", "text"),
    [(None, ""), (4.0, "4"), (3.5, "3.5"), (0.1 + 0.2, "0.3"), (True, "true"),
     (datetime(2026, 12, 5), "2026-12-05"), (datetime(2026, 12, 5, 17, 30), "2026-12-05 17:30:00"), ("3,5", "3,5")],
)
def test_a_cell_reads_as_a_csv_export_of_it_would(value, text):
    assert cell_text(value) == text


def test_pasted_spreadsheet_rows_are_tab_separated_and_dutch_csv_uses_semicolons():
    read = rows("Naam\tE-mail\tTeam\nJan de Vries\tjan@school.example\tA\n".encode())
    assert list(read)[1] == (2, ["Jan de Vries", "jan@school.example", "A"])
    read = rows("Naam;E-mail;Team\r\nAnneliës;a@school.example;B, groen\r\n".encode("cp1252"))
    assert list(read)[1] == (2, ["Anneliës", "a@school.example", "B, groen"])


@pytest.mark.parametrize(
    ("data", "expected", "says"),
    [
        (zipped({"mimetype": "application/vnd.oasis.opendocument.spreadsheet", "content.xml": "<x/>"}), Kind.ods,
         "OpenDocument spreadsheet (.ods)"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512), Kind.xls, "old Excel workbook (.xls)"),
        ("Naam\tE-mail\r\nJan\tjan@school.example\r\n".encode("utf-16"), Kind.utf_16, "UTF-16"),
        ("Naam,E-mail\nJan,jan@school.example\n".encode("utf-16-le"), Kind.utf_16, "UTF-16"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", Kind.pdf, "PDF"),
        (zipped({"[Content_Types].xml": "<x/>", "word/document.xml": "<x/>"}), Kind.document, ".docx"),
        (zipped({"klas.xlsx": "nested"}), Kind.archive, "ZIP archive"),
        (b"\x89PNG\r\n\x1a\n" + bytes(64), Kind.binary, "not a text file or a spreadsheet"),
    ],
)
def test_a_file_that_is_no_table_is_named_for_what_it_is(data, expected, says):
    assert kind(data) == expected
    with pytest.raises(Unreadable, match=r"(?s).*" + says.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        rows(data)
    assert "save" in refusal(expected) or "choose" in refusal(expected)


def test_an_excel_workbook_is_never_refused_as_text_in_a_wrong_encoding():
    """The issue's report: an .xlsx refused as 'not utf-8 or windows-1252 text (byte 0x90)'."""
    data = workbook(["a", "b"], ["€", "ë"])
    assert kind(data) == Kind.xlsx
    assert [cells for _, cells in rows(data)] == [["a", "b"], ["€", "ë"]]


def test_a_damaged_workbook_says_so_instead_of_failing():
    data = zipped({"[Content_Types].xml": "<Types/>", "xl/workbook.xml": "<workbook><sheets"})
    with pytest.raises(Unreadable, match="The .xlsx workbook cannot be read"):
        rows(data)


def test_a_stray_nul_in_a_text_file_is_still_text():
    assert kind(b"name,email\nJan \x00,jan@school.example\n" * 5) == Kind.text
