"""Names in the forms teenagers write them: `names.replace_names_for` and the name-words it leaves alone."""

import pytest

from peerdigest.domain.names import mentions_a_name, replace_names_for

ROSTER = ("Joy de Vos", "Christopher Bakker", "Mohammed El Amrani", "Sanne Visser", "Jan Jansen", "Will Summers",
          "Iris Mees", "Sebastiaan de Boer", "Lotte Prins", "Thomas Wood", "Elizabeth Ward", "Benjamin Hayes")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Chris en mo deden veel.", "Teammate en teammate deden veel."),  # first syllable, pet form
        ("Chrissie, Sannetje en Jantje.", "Teammate, teammate en teammate."),  # diminutives
        ("Tommy and Liz helped.", "Teammate and teammate helped."),  # -y diminutive of a short form, pet form
        ("Bas en Lotje waren er.", "Teammate en teammate waren er."),
        ("Thomas' part and Jan's slides.", "Teammate part and teammate's slides."),  # possessives
        ("CB deed de poster.", "Teammate deed de poster."),  # initials
        ("Joy, je was er altijd.", "Teammate, je was er altijd."),  # address
        ("hey joy, nice work", "hey teammate, nice work"),
        ("Working with Joy was fun.", "Working with teammate was fun."),  # capitalized mid-sentence
        ("joy presented calmly.", "Teammate presented calmly."),  # lower case, followed by its verb
        ("mees zat op zijn telefoon.", "Teammate zat op zijn telefoon."),
        ("Sanne en iris deden alles.", "Teammate en teammate deden alles."),  # listed with another name
        ("Will was late, Will's part too.", "Teammate was late, teammate's part too."),
        ("Ben hielp veel.", "Teammate hielp veel."),
    ],
)
def test_every_form_a_student_writes_is_replaced(text, expected):
    assert replace_names_for(text, ROSTER, student="", language="en") == expected


@pytest.mark.parametrize(
    "text",
    [
        "It was a joy to work with you, the sky is the limit.",
        "Slim als een vos, altijd een plan.",
        "Een mees is een vogel en de iris een bloem.",
        "You will always find a way.",
        "Dan is het af.",
        "Hope you liked it.",
        "Ben je al klaar? Ik ben blij.",
        "Will you help?",
        "We made a lot of wood carvings.",
    ],
)
def test_a_name_that_is_an_ordinary_word_stays_where_it_is_used_as_a_word(text):
    assert replace_names_for(text, ROSTER, student="", language="en") == text
    assert not mentions_a_name(text, ROSTER)


def test_in_a_big_evaluation_every_form_is_still_found():
    # A text is matched against the forms that can occur in it only; in a roster of hundreds that must miss none.
    crowd = tuple(f"Leerling{i} Achternaam{i}" for i in range(400))
    big = (*crowd, *ROSTER, "Zoë van der Berg")
    text = "Chrissie, zoe en Jan's slides; Van der Berg hielp, CB ook, en leerling17 was er."
    assert replace_names_for(text, big, student="", language="en") == (
        "Teammate, teammate en teammate's slides; teammate hielp, teammate ook, en teammate was er."
    )


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Olly en Em deden de poster.", "Teammate en teammate deden de poster."),  # shipped nicknames
        ("Luke kept the planning.", "Teammate kept the planning."),
        ("Tims deel was sterk.", "Teammate deel was sterk."),  # possessive without an apostrophe
        ("Mohamed deed veel.", "Teammate deed veel."),  # one letter from Mohammed
        ("Ik werkte met Sanna samen.", "Ik werkte met teammate samen."),  # one letter from Sanne
        ("Pieter zei dat je laat was.", "Teammate zei dat je laat was."),  # on no roster, before a reporting verb
        ("According to Kevin, you were late.", "According to teammate, you were late."),
        ("Volgens Kevin was je er niet.", "Volgens teammate was je er niet."),
    ],
)
def test_nicknames_spelling_variants_and_people_quoted_by_name_are_replaced(text, expected):
    roster = (*ROSTER, "Oliver Smith", "Emma de Wit", "Lucas Brown", "Tim Jansen")
    assert replace_names_for(text, roster, student="", language="en") == expected


@pytest.mark.parametrize(
    "text",
    [
        "Semantisch klopte het verslag.",  # starts with a short roster name (Sem)
        "Timing was lastig, emoties liepen op.",
        "Toen zei hij niets meer.",  # a Dutch inversion: an adverb before the verb, not a person
        "Maandag zei iedereen dat het af was.",
        "Iedereen vond het een goed verslag.",
        "Daar was het mee gedaan, samen hebben we het afgemaakt.",
        "I met em later at the library.",
    ],
)
def test_ordinary_words_near_a_name_are_left_alone(text):
    roster = ("Sem Vos", "Tim Jansen", "Emma de Wit", "Daan Smit", "Sanne Visser")
    assert replace_names_for(text, roster, student="", language="nl") == text
