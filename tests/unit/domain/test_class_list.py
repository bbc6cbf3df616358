"""Reading a class list on its own: the headers schools use, rows without a header, and every problem by row."""

from peerdigest import i18n
from peerdigest.domain.class_list import parse_text


def test_problems_are_written_in_the_readers_language():
    with i18n.use_language("nl"):
        assert problems(parse_text("Naam,E-mail,Team\nAnn,ann@x.example,\n")) == ["line 2: het team is leeg"]


def problems(parsed) -> list[str]:
    return [str(p) for p in parsed.problems]


def test_english_headers_in_any_order_and_case():
    parsed = parse_text("Team,E-mail Address,Full Name\nRed,Ann@School.example,Ann Lee\nRed,bob@school.example,Bob\n")
    assert parsed.ok, problems(parsed)
    assert [(m.line, m.name, m.email, m.team) for m in parsed.members] == [
        (2, "Ann Lee", "ann@school.example", "Red"), (3, "Bob", "bob@school.example", "Red")]


def test_rows_without_a_header_are_read_by_their_content():
    parsed = parse_text("jan@school.example\tJan de Vries\tA\nSanne\tsanne@school.example\tA\n")
    assert [(m.name, m.email, m.team) for m in parsed.members] == [
        ("Jan de Vries", "jan@school.example", "A"), ("Sanne", "sanne@school.example", "A")]


def test_a_school_systems_name_parts_are_joined():
    parsed = parse_text("Roepnaam;Tussenvoegsel;Achternaam;E-mail leerling;Groep\nDaan;de;Boer;d@s.example;1\n"
                        "Eva;;Smit;e@s.example;1\n")
    assert [m.name for m in parsed.members] == ["Daan de Boer", "Eva Smit"]


def test_every_problem_names_its_row():
    parsed = parse_text("Naam,E-mail,Team\nAnn,ann@school.example,A\nBob,not-an-address,A\nCat,cat@school.example,\n"
                        "Ann again,ANN@school.example,B\n")
    assert problems(parsed) == [
        "line 3: 'not-an-address' is not an e-mail address",
        "line 4: the team is empty",
        "line 5: ann@school.example is also on line 2; each student once, in one team",
    ]


def test_a_whole_class_may_not_leave_a_student_alone_in_a_team_but_added_students_may_join_one():
    rows = "Naam,E-mail,Team\nAnn,ann@school.example,A\nBob,bob@school.example,A\nCat,cat@school.example,B\n"
    assert problems(parse_text(rows)) == [
        "line 4: team 'B' has one student; a team needs at least two to rate each other"]
    assert parse_text(rows, whole_class=False).ok


def test_a_header_without_the_columns_says_which_are_missing():
    assert problems(parse_text("Naam,Klas\nAnn,3B\n")) == [
        "line 1: The header has no column for e-mail, team; name the columns Name, E-mail and Team (Naam, E-mail, Team)."]
