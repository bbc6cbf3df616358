"""A table people hand in, as rows of text cells numbered like the spreadsheet's rows.

What teachers have is a spreadsheet: exported as CSV (`,`, `;` or, pasted
from one, tabs; UTF-8 with or without a BOM, or Windows-1252, which Dutch
Excel writes) or the workbook itself (.xlsx: its first sheet). Anything else
they may pick by mistake (an .ods, an old .xls, UTF-16 "Unicode text", a PDF,
a Word document, a picture) is recognised by its bytes and named, with what
to save it as instead, rather than read as garbled text.

Every row carries its spreadsheet row number (the header is row 1; a CSV cell
with a line break inside is still one row), so every problem can name it.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time
from enum import StrEnum

from peerdigest.i18n import Message, _


class Encoding(StrEnum):
    """Encodings a text file may come in; without one named, UTF-8 when the bytes are UTF-8, else Windows-1252."""

    utf_8 = "utf-8"
    windows_1252 = "windows-1252"


CODECS = {Encoding.utf_8: "utf-8-sig", Encoding.windows_1252: "cp1252"}  # utf-8-sig: with or without a BOM


class Kind(StrEnum):
    """What a file is, judged by its bytes (never its name, which is often wrong)."""

    text = "text"
    xlsx = "xlsx"
    ods = "ods"
    xls = "xls"  # an old Excel workbook, or any workbook saved with a password (both are OLE2 containers)
    utf_16 = "utf-16"
    pdf = "pdf"
    document = "document"  # .docx, .odt
    archive = "archive"  # another ZIP
    binary = "binary"


class Unreadable(Exception):
    """The file as a whole cannot be read as a table; the message says what it is and what to do instead."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


Row = tuple[int, list[str] | str]  # (row number, its cells, or what is wrong with that row)

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_SNIFF = 4096  # bytes looked at to tell text from binary
_PICTURES = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8")
# Bytes no text file holds (a stray NUL in one cell is that row's problem, not a binary file).
_CONTROL = bytes([*range(0, 9), 11, *range(14, 27), *range(28, 32)])


def kind(data: bytes) -> Kind:
    """What `data` is: a text file, an .xlsx workbook, or one of the files a table is often mistaken for."""
    if data.startswith(b"PK\x03\x04"):
        return _zip_kind(data)
    if data.startswith(b"%PDF-"):
        return Kind.pdf
    if data.startswith(_OLE2):
        return Kind.xls
    head = data[:_SNIFF]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or _utf_16_pattern(head):
        return Kind.utf_16
    if head.startswith(_PICTURES) or _controls(head) > 0.05 * len(head):
        return Kind.binary
    return Kind.text


def _zip_kind(data: bytes) -> Kind:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            mimetype = archive.read("mimetype").decode("ascii", "replace").strip() if "mimetype" in names else ""
    except (zipfile.BadZipFile, KeyError, ValueError):
        return Kind.binary
    if "xl/workbook.xml" in names:
        return Kind.xlsx
    if mimetype == "application/vnd.oasis.opendocument.spreadsheet":
        return Kind.ods
    if "word/document.xml" in names or mimetype.startswith("application/vnd.oasis.opendocument.text"):
        return Kind.document
    return Kind.archive


def _utf_16_pattern(head: bytes) -> bool:
    """UTF-16 without a BOM: ASCII-range text leaves a NUL in every other byte."""
    if len(head) < 8:
        return False
    even, odd = head[0::2], head[1::2]
    return odd.count(0) >= 0.9 * len(odd) or even.count(0) >= 0.9 * len(even)


def _controls(head: bytes) -> int:
    return len(head) - len(head.translate(None, _CONTROL))


def refusal(found: Kind) -> str:
    """What to tell someone who handed in a file of kind `found` where a table was expected."""
    return {
        Kind.ods: _("This is an OpenDocument spreadsheet (.ods): save it as .xlsx or CSV."),
        Kind.xls: _(
            "This is an old Excel workbook (.xls) or a workbook with a password: save it as .xlsx without a "
            "password, or as CSV."
        ),
        Kind.utf_16: _("This is UTF-16 text (Excel's “Unicode text”): save it as “CSV UTF-8” or as .xlsx."),
        Kind.pdf: _("This is a PDF document, which holds no table to read: save the list as .xlsx or CSV."),
        Kind.document: _(
            "This is a word-processor document (.docx or .odt): put the list in a spreadsheet and save it as "
            ".xlsx or CSV."
        ),
        Kind.archive: _("This is a ZIP archive: unpack it and choose the .xlsx or CSV file inside."),
        Kind.binary: _("This is not a text file or a spreadsheet: choose the .xlsx or CSV file."),
    }[found]


def decoded(data: bytes, encoding: Encoding | None = None) -> tuple[str, Encoding]:
    """The text of a text file, in `encoding` or else the first known one it decodes in; Unreadable if none."""
    tried = [Encoding(encoding)] if encoding is not None else list(Encoding)
    for name in tried:
        try:
            return data.decode(CODECS[name]), name
        except UnicodeDecodeError as exc:
            failure = exc
    byte = format(data[failure.start], "#04x")
    raise Unreadable(
        _(
            "the file is not %(encodings)s text (byte %(byte)s): save it as “CSV UTF-8” or .xlsx, "
            "or choose the encoding it was saved in",
            encodings="/".join(tried),
            byte=byte,
        ),
        line=data[: failure.start].count(b"\n") + 1,
    )


def rows(data: bytes) -> Iterator[Row]:
    """The rows of a table file: CSV text (its encoding detected) or an .xlsx workbook's first sheet.

    Raises Unreadable for any other kind of file, naming it.
    """
    found = kind(data)
    if found == Kind.xlsx:
        return xlsx_rows(data)
    if found != Kind.text:
        raise Unreadable(refusal(found))
    return csv_rows(decoded(data)[0])


def delimiter_of(text: str) -> str:
    """The delimiter the first line uses most: a tab (rows pasted from a spreadsheet), `;` (Dutch Excel) or `,`."""
    first = text.lstrip("\r\n").split("\n", 1)[0]
    return max(("\t", ";", ","), key=first.count) if any(d in first for d in "\t;,") else ","


def csv_rows(text: str) -> Iterator[Row]:
    """Each record of CSV `text` with its row number; stops at a row that cannot be read, saying why."""
    # strict: a quote that is never closed is an error, not a cell that runs to the end of the file.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter_of(text), strict=True)
    line = 0  # the spreadsheet row: one per record, however many line breaks its cells hold
    while True:
        line += 1
        starts_at = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield line, _unreadable(exc, starts_at, reader.line_num)
            return
        yield line, cells


def _unreadable(exc: csv.Error, starts_at: int, stopped_at: int) -> str:
    if "unexpected end of data" in str(exc):
        return Message("a quote (\") opened in this row (file line %(line)s) is never closed, so the rest of the file "
                       "would be read as one cell; close it or remove it", line=starts_at)
    return Message("cannot be read as CSV (file line %(line)s): %(error)s", line=stopped_at, error=str(exc))


def xlsx_rows(data: bytes) -> Iterator[Row]:
    """The first sheet of an .xlsx workbook, every cell as text; Unreadable when the workbook is damaged."""
    # Imported here: openpyxl is slow to import and only a workbook needs it.
    from openpyxl import load_workbook

    try:
        # read_only streams the sheet (a small file cannot unpack into a huge one in memory); data_only
        # reads a formula's last computed value, which is what the teacher sees in the cell.
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
        values = [list(row) for row in sheet.iter_rows(min_row=1, values_only=True)]
        workbook.close()
    except Exception as exc:  # openpyxl raises many kinds (zip, XML, key errors) for one cause: a damaged file
        raise Unreadable(_("The .xlsx workbook cannot be read (%(error)s): open it and save it again.",
                           error=type(exc).__name__)) from exc
    return ((number, [cell_text(value) for value in row]) for number, row in enumerate(values, start=1))


def cell_text(value: object) -> str:
    """A workbook cell as the text a CSV export of it would hold (`4`, not `4.0`; dates as ISO dates)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.15g}"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ") if value.time() != time(0) else value.date().isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def column_name(name: str) -> str:
    """`Reviewer Email`, `reviewer-email` and `REVIEWER_EMAIL` all name `reviewer_email`."""
    return re.sub(r"[\s\-]+", "_", str(name).strip().lower())


def blank(cells: list[str]) -> bool:
    """An empty row: blank lines, and spreadsheets' trailing ";;;;;;;" rows."""
    return not any(cell.strip() for cell in cells)


def as_csv(table: list[list[str]], delimiter: str = ",") -> bytes:
    """A table as CSV that Excel opens right: UTF-8 with a BOM (`;` is what Dutch Excel expects)."""
    text = io.StringIO(newline="")
    csv.writer(text, delimiter=delimiter, lineterminator="\r\n").writerows(table)
    return "\ufeff".encode() + text.getvalue().encode()


def as_xlsx(table: list[list[str]]) -> bytes:
    """A table as an .xlsx workbook of one sheet, its first row bold (the header)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    for cells in table:
        sheet.append(cells)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for column in sheet.columns:
        sheet.column_dimensions[column[0].column_letter].width = max(len(str(c.value or "")) for c in column) + 4
    data = io.BytesIO()
    book.save(data)
    return data.getvalue()
