"""Names out before anything leaves the process: `feedback.replace_names` and `anonymize`."""

import pytest

from peerdigest.domain.feedback import anonymize, replace_names
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
    assert replace_names(text, ROSTER, "teamgenoot") == expected


def test_a_possessive_keeps_its_s_so_english_still_reads():
    assert replace_names("Jan's part and Anne-Sophie’s poster.", ROSTER, "teammate") == (
        "Teammate's part and teammate’s poster."
    )


def test_anonymize_replaces_names_in_every_comment_and_nothing_else():
    received = ReceivedFeedback(
        evaluation_id=1, student_id=1, student_name="Jan de Vries", language="nl", criteria=(),
        comments=(Comment(1, "Inzet", "jan en Zoe werkten samen", 4, 1),), roster=ROSTER, reviewer_count=1,
    )
    anonymous = anonymize(received)
    assert [c.text for c in anonymous.comments] == ["Teamgenoot en teamgenoot werkten samen"]
    assert anonymous.roster == ROSTER and anonymous.student_name == "Jan de Vries"
