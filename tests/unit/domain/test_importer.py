"""Reading a feedback file on its own: the formats spreadsheets and forms export, and every problem with its line."""

import json
from dataclasses import replace

import pytest

from peerdigest.domain.importer import column_map_from, parse

HEADER = "reviewer_email,reviewer_name,reviewee_email,reviewee_name,team,criterion,score,comment"


def csv_file(*rows: str, header: str = HEADER, delimiter: str = ",") -> bytes:
    return "\n".join([header.replace(",", delimiter), *(r.replace(",", delimiter) for r in rows)]).encode()


def row(reviewer="ann@school.example", reviewee="bob@school.example", criterion="Effort", score="4", comment="Solid work",
        team="Red", **extra) -> dict:
    return {
        "reviewer_email": reviewer, "reviewer_name": reviewer.split("@")[0].title(),
        "reviewee_email": reviewee, "reviewee_name": reviewee.split("@")[0].title(),
        "team": team, "criterion": criterion, "score": score, "comment": comment, **extra,
    }


def messages(parsed) -> list[str]:
    return [str(p) for p in parsed.problems]


def test_a_semicolon_spreadsheet_export_with_bom_and_capitalised_headers_is_read():
    data = (
        "\ufeffReviewer Email;Reviewer Name;Reviewee Email;Reviewee Name;Team;Criterion;Score;Comment\r\n"
        "Ann@School.example;Ann;bob@school.example;Bob;Red;Effort;3,5;\"Good; on time\"\r\n"
    ).encode()
    parsed = parse(data)
    assert parsed.ok, messages(parsed)
    [only] = parsed.rows
    assert (only.reviewer_email, only.score, only.comment, only.is_self) == ("ann@school.example", 3.5, "Good; on time", False)


def test_line_numbers_are_spreadsheet_rows_also_after_a_comment_with_line_breaks():
    data = csv_file(
        'ann@school.example,Ann,bob@school.example,Bob,Red,Effort,4,"first line\nsecond line\nthird"',
        "ann@school.example,Ann,bob@school.example,Bob,Red,Care,9,",
    )
    parsed = parse(data)
    assert messages(parsed) == ["line 3: score 9 is outside the scale 1-5 of 'Care'"]
    assert parsed.rows[0].comment == "first line\nsecond line\nthird"


def test_formula_like_cells_are_kept_as_the_text_they_are():
    parsed = parse(csv_file("ann@school.example,Ann,bob@school.example,=HYPERLINK(\"x\"),Red,Effort,4,@SUM(A1:A9)"))
    assert parsed.ok, messages(parsed)
    assert (parsed.rows[0].reviewee_name, parsed.rows[0].comment) == ('=HYPERLINK("x")', "@SUM(A1:A9)")


def test_json_list_and_json_lines_give_the_same_rows_with_their_lines():
    rows = [row(), row(reviewee="cat@school.example", score=5, comment=None)]
    as_list = parse(json.dumps(rows, indent=1).encode())
    as_lines = parse("\n".join(json.dumps(r) for r in rows).encode())
    assert as_list.ok and as_lines.ok
    assert [replace(r, line=0) for r in as_list.rows] == [replace(r, line=0) for r in as_lines.rows]
    assert [r.line for r in as_lines.rows] == [1, 2]
    assert [r.line for r in as_list.rows] == [2, 12]  # where each object's "{" is in the indented list


def test_every_problem_of_a_file_is_listed_with_its_line():
    data = csv_file(
        "ann@school.example,Ann,bob@school.example,Bob,Red,Effort,six,",
        "ann@school.example,Ann,ann@school.example,Ann,Red,Effort,4,",
        "not-an-email,X,bob@school.example,Bob,Red,Effort,4,",
        "ann@school.example,Ann,bob@school.example,Bob,Red,Effort,0,",
        "ann@school.example,Ann,cat@school.example,Cat,Red,Effort,4,",
        header=HEADER,
    )
    data += b"\nann@school.example,Ann,cat@school.example,Cathy,Red,Effort,3,"
    assert messages(parse(data)) == [
        "line 2: score 'six' is not a number",
        "line 3: reviewer and reviewee are both ann@school.example; mark a self-assessment with is_self=true",
        "line 4: reviewer_email 'not-an-email' is not an email address",
        "line 5: the same reviewer, reviewee and criterion as line 2",
        "line 5: score 0 is outside the scale 1-5 of 'Effort'",
        "line 7: the same reviewer, reviewee and criterion as line 6",
        "line 7: cat@school.example is named 'Cathy' here but 'Cat' on line 6",
    ]


def test_a_self_assessment_is_marked_with_is_self():
    parsed = parse(csv_file("ann@school.example,Ann,ann@school.example,Ann,Red,Effort,4,,yes", header=HEADER + ",is_self"))
    assert parsed.ok and parsed.rows[0].is_self


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "the file is empty"),
        (b"\xef\xbb\xbf \r\n", "the file is empty"),
        (HEADER.encode() + b"\n", "the file has no rows of feedback"),
        (b"reviewer_email,reviewee_email,score\n", "line 1: missing column(s) reviewer_name, reviewee_name, criterion, comment"),
        (b'[{"reviewer_email": "a@x.example"},\n {"oops"}]', "line 2: is not valid JSON"),
        (b'{"reviewer_email": "a@x.example"}', "line 1: missing field(s) reviewer_name"),
    ],
)
def test_a_file_that_cannot_be_read_says_why(data, expected):
    parsed = parse(data)
    assert not parsed.ok
    assert messages(parsed)[0].startswith(expected)


def test_a_file_over_the_size_limit_is_refused_unread():
    assert messages(parse(b"x" * 101, max_bytes=100)) == [
        "the file is 101 bytes; the limit is 100 bytes (IMPORT_MAX_BYTES): split it into parts"
    ]


def test_a_scale_column_sets_a_criterion_scale_and_an_unknown_scale_is_a_problem():
    header = HEADER + ",scale"
    good = parse(csv_file("ann@school.example,Ann,bob@school.example,Bob,Red,Effort,8,,0-10", header=header))
    assert good.ok and good.scales == {"Effort": (0.0, 10.0)}
    bad = parse(csv_file("ann@school.example,Ann,bob@school.example,Bob,Red,Effort,4,,lots", header=header))
    assert messages(bad) == ["line 2: unknown criterion scale 'lots': write it as lowest-highest, like 1-5"]


def test_scores_are_checked_against_the_scale_a_criterion_already_has():
    data = csv_file("ann@school.example,Ann,bob@school.example,Bob,Red,Effort,8,")
    assert not parse(data).ok
    assert parse(data, known_scales={"Effort": (1.0, 10.0)}).ok


def test_an_unterminated_quote_is_a_problem_of_its_row_not_a_comment_that_swallows_the_rest():
    data = csv_file(
        'ann@school.example,Ann,bob@school.example,Bob,Red,Effort,4,"forgot to close',
        "bob@school.example,Bob,ann@school.example,Ann,Red,Effort,3,fine",
    )
    parsed = parse(data)
    assert messages(parsed) == [
        "line 2: a quote (\") opened in this row (file line 2) is never closed, so the rest of the file "
        "would be read as one cell; close it or remove it"
    ]


def test_a_stray_quote_inside_a_cell_is_a_problem_with_its_row():
    parsed = parse(csv_file('ann@school.example,Ann,bob@school.example,Bob,Red,Effort,4,"quoted" then more'))
    assert messages(parsed)[0].startswith("line 2: cannot be read as CSV")


def test_the_team_column_may_be_left_out():
    header = "reviewer_email,reviewer_name,reviewee_email,reviewee_name,criterion,score,comment"
    parsed = parse(csv_file("ann@school.example,Ann,bob@school.example,Bob,Effort,4,Solid", header=header))
    assert parsed.ok, messages(parsed)
    assert parsed.rows[0].team is None


def test_dutch_headers_are_understood():
    header = "E-mail beoordelaar;Beoordelaar;E-mail beoordeelde;Beoordeelde;Team;Criterium;Cijfer;Opmerking"
    parsed = parse(csv_file("ann@school.example;Ann;bob@school.example;Bob;Rood;Inzet;4;Goed", header=header, delimiter=";"))
    assert parsed.ok, messages(parsed)
    only = parsed.rows[0]
    assert (only.reviewer_name, only.reviewee_email, only.criterion, only.score, only.comment) == (
        "Ann", "bob@school.example", "Inzet", 4.0, "Goed"
    )


def test_english_spreadsheet_names_are_understood():
    header = "Reviewer E-mail,Reviewer,Reviewee E-mail,Reviewee,Criterion,Grade,Feedback"
    parsed = parse(csv_file("ann@school.example,Ann,bob@school.example,Bob,Effort,4,Solid", header=header))
    assert parsed.ok, messages(parsed)
    assert (parsed.rows[0].reviewee_name, parsed.rows[0].score) == ("Bob", 4.0)


def test_a_column_map_names_columns_no_alias_knows():
    header = "Van,Naam van,Aan,Naam aan,Onderdeel,Punten,Tekst"
    data = csv_file("ann@school.example,Ann,bob@school.example,Bob,Effort,4,Solid", header=header)
    assert not parse(data).ok
    mapped = parse(data, column_map={
        "Van": "reviewer_email", "Naam van": "reviewer_name", "Aan": "reviewee_email", "Naam aan": "reviewee_name",
        "Onderdeel": "criterion", "Punten": "score", "Tekst": "comment",
    })
    assert mapped.ok, messages(mapped)
    assert mapped.rows[0].score == 4.0


def test_a_mapping_that_names_no_field_is_refused():
    assert column_map_from(["Cijfer=score", "Naam = reviewee_name"]) == {"Cijfer": "score", "Naam": "reviewee_name"}
    with pytest.raises(ValueError, match="'Cijfer' does not map a column"):
        column_map_from(["Cijfer"])
    with pytest.raises(ValueError, match="'Cijfer=grade' does not map a column"):
        column_map_from(["Cijfer=grade"])


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_utf8_with_or_without_bom_and_windows_1252_are_read_without_being_told(encoding):
    data = csv_file("ann@school.example,Anneliës,bob@school.example,Bob,Red,Effort,4,Één ‘goed’ punt").decode()
    parsed = parse(data.encode(encoding))
    assert parsed.ok, messages(parsed)
    assert (parsed.rows[0].reviewer_name, parsed.rows[0].comment) == ("Anneliës", "Één ‘goed’ punt")
    assert parsed.encoding == ("windows-1252" if encoding == "cp1252" else "utf-8")


def test_a_named_encoding_is_the_only_one_tried():
    data = csv_file("ann@school.example,Ann,bob@school.example,Bob,Red,Effort,4,café").decode().encode("cp1252")
    assert messages(parse(data, encoding="utf-8"))[0].startswith("line 2: the file is not utf-8 text (byte 0xe9)")
    assert parse(data, encoding="windows-1252").rows[0].comment == "café"


def test_nul_characters_and_cells_longer_than_their_column_are_problems_of_their_row():
    parsed = parse(csv_file(
        "ann@school.example,Ann,bob@school.example,Bob,Red,Effort,4,nul \x00 here",
        f"ann@school.example,Ann,cat@school.example,{'C' * 201},{'T' * 101},Effort,4,",
        f"ann@school.example,Ann,dan@school.example,Dan,Red,{'E' * 201},4,",
    ))
    assert messages(parsed) == [
        "line 2: comment contains a NUL character (\\0), which cannot be stored",
        "line 3: reviewee_name is 201 characters long; at most 200 fit",
        "line 3: team is 101 characters long; at most 100 fit",
        "line 4: criterion is 201 characters long; at most 200 fit",
    ]


def test_an_xlsx_workbook_of_feedback_is_read_with_its_spreadsheet_rows():
    import io

    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["Beoordelaar", "E-mail beoordelaar", "Beoordeelde", "E-mail beoordeelde", "Team", "Criterium",
                        "Cijfer", "Opmerking"])
    book.active.append(["Ann", "ann@school.example", "Bob", "bob@school.example", "Red", "Effort", 3.5, "Sterk"])
    book.active.append(["Ann", "ann@school.example", "Cat", "cat@school.example", "Red", "Effort", 9, None])
    data = io.BytesIO()
    book.save(data)
    parsed = parse(data.getvalue())
    assert messages(parsed) == ["line 3: score 9 is outside the scale 1-5 of 'Effort'"]
    assert (parsed.rows[0].reviewee_email, parsed.rows[0].score, parsed.rows[0].comment) == ("bob@school.example", 3.5, "Sterk")
    assert parsed.encoding is None


def test_an_opendocument_spreadsheet_is_named_not_misread():
    import zipfile
    import io

    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
    assert messages(parse(data.getvalue())) == ["This is an OpenDocument spreadsheet (.ods): save it as .xlsx or CSV."]


def test_a_missing_column_names_the_template_not_a_command_line_flag():
    [problem] = messages(parse(b"reviewer_email,reviewee_email,score\n"))
    assert "--" not in problem and "template" in problem


def test_a_class_list_on_the_import_page_is_recognised_and_sent_to_new_evaluation():
    [problem] = messages(parse("Naam;E-mail;Team\nJan;jan@school.example;A\n".encode()))
    assert problem.startswith("line 1: This looks like a class list") and "New evaluation" in problem
