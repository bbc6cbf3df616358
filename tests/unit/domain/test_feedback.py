"""Names out before anything leaves the process: `names.replace_names_for` and `anonymize`."""

import pytest

from peerdigest.domain.feedback import anonymize
from peerdigest.domain.names import replace_names_for
from peerdigest.domain.received import Comment, ReceivedFeedback

ROSTER = ("Jan de Vries", "Zoë van den Berg", "Anne-Sophie Mulder", "Mohammed El Amrani")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Jan de Vries werkte hard.", "Teamgenoot werkte hard."),
        ("Met jan ging het goed.", "Met teamgenoot ging het goed."),
        ("Jans deel was netjes.", "Teamgenoot deel was netjes."),
        ("De Vries reageert laat.", "Teamgenoot reageert laat."),
        ("Goed gedaan, JAN!", "Goed gedaan, teamgenoot!"),
        ("Zoe en zoë en ZOË.", "Teamgenoot en teamgenoot en teamgenoot."),
        ("Het ontwerp van van den Berg.", "Het ontwerp van teamgenoot."),
        ("Anne-Sophie, Anne en Sophie hielpen.", "Teamgenoot, teamgenoot en teamgenoot hielpen."),
        ("Mohammed legde het uit.", "Teamgenoot legde het uit."),
        ("Het werk van de groep was af.", "Het werk van de groep was af."),  # particles alone are ordinary words
        ("Janssen en Zoëlla zijn andere namen.", "Janssen en Zoëlla zijn andere namen."),
    ],
)
def test_every_form_of_a_roster_name_is_replaced(text, expected):
    assert replace_names_for(text, ROSTER, student="", language="nl") == expected


def test_a_possessive_keeps_its_s_so_english_still_reads():
    assert replace_names_for("Jan's part and Anne-Sophie’s poster.", ROSTER, student="", language="en") == (
        "Teammate's part and teammate’s poster."
    )


def test_anonymize_replaces_names_in_every_comment_and_nothing_else():
    received = ReceivedFeedback(
        evaluation_id=1, student_id=1, student_name="Jan de Vries", language="nl", criteria=(),
        comments=(Comment(1, "Inzet", "jan en Zoe werkten samen", 4, 1),), roster=ROSTER, reviewer_count=1,
    )
    anonymous = anonymize(received)
    # Jan is the student this feedback is about: his own name is a placeholder, not "teamgenoot".
    assert [c.text for c in anonymous.comments] == ["[naam] en teamgenoot werkten samen"]
    assert anonymous.roster == ROSTER and anonymous.student_name == "Jan de Vries"


@pytest.mark.parametrize(
    ("language", "comment", "expected"),
    [
        ("nl", "Ik werkte graag met Jan.", "Ik werkte graag met jou."),
        ("nl", "Jans deel was het sterkst.", "Je deel was het sterkst."),
        ("nl", "Jan is altijd op tijd, Zoë niet.", "[naam] is altijd op tijd, teamgenoot niet."),
        ("en", "Jan's poster was the best part.", "Your poster was the best part."),
        ("en", "I liked working with Jan.", "I liked working with you."),
    ],
)
def test_the_students_own_name_reads_as_you_never_as_a_teammate(language, comment, expected):
    received = ReceivedFeedback(
        evaluation_id=1, student_id=1, student_name="Jan de Vries", language=language, criteria=(),
        comments=(Comment(1, "Inzet", comment, 4, 1),), roster=ROSTER, reviewer_count=1,
    )
    assert [c.text for c in anonymize(received).comments] == [expected]
