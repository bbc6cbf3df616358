"""Reading a feedback file on its own: the formats spreadsheets and forms export, and every problem with its line."""

import json
from dataclasses import replace

import pytest

from peerdigest.domain.importer import COLUMNS, parse

HEADER = ",".join(COLUMNS)


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


def test_line_numbers_count_physical_lines_even_inside_multi_line_comments():
    data = csv_file(
        'ann@school.example,Ann,bob@school.example,Bob,Red,Effort,4,"first line\nsecond line"',
        "ann@school.example,Ann,bob@school.example,Bob,Red,Care,9,",
    )
    parsed = parse(data)
    assert messages(parsed) == ["line 4: score 9 is outside the scale 1-5 of 'Care'"]
    assert parsed.rows[0].comment == "first line\nsecond line"


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
        (b"reviewer_email,reviewee_email,score\n", "line 1: missing column(s) reviewer_name, reviewee_name, team, criterion, comment"),
        (HEADER.encode() + b"\nann@x.example,Ann,bob@x.example,Bob,Red,Effort,4,caf\xe9", "line 2: the file is not UTF-8 text"),
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
