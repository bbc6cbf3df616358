"""Flagging comments a teacher should read themself, per language, without flagging everyday words."""

import pytest

from peerdigest.domain.flags import Concern, flag


@pytest.mark.parametrize(
    ("text", "concern"),
    [
        ("Honestly he said he wants to kill himself after the deadline.", Concern.self_harm),
        ("She talked about self-harm in the group chat.", Concern.self_harm),
        ("He told me he wanted to die, I am worried.", Concern.self_harm),
        ("If he misses one more meeting I'll kill you, tell him.", Concern.threat),
        ("Watch your back after school.", Concern.threat),
        ("I know where he lives.", Concern.threat),
        ("What a fucking lazy guy, did absolutely nothing.", Concern.offensive),
        ("He is such an idiot.", Concern.offensive),
        ("You’re so stupid, nobody likes you.", Concern.offensive),
    ],
)
def test_english_comments_that_need_a_teacher(text, concern):
    assert flag(text, "en").concern == concern


@pytest.mark.parametrize(
    ("text", "concern"),
    [
        ("Hij zei dat hij zelfmoord wil plegen, ik maak me zorgen.", Concern.self_harm),
        ("Ze wil zichzelf iets aandoen, zei ze.", Concern.self_harm),
        ("Hij zegt dat hij niet meer wil leven.", Concern.self_harm),
        ("Als je nog één keer te laat bent sla ik je in elkaar.", Concern.threat),
        ("Ik maak je af na school.", Concern.threat),
        ("Ik weet waar je woont.", Concern.threat),
        ("Wat een kankerlijer, deed helemaal niks.", Concern.offensive),
        ("Hij is echt een klootzak tegen iedereen.", Concern.offensive),
        ("Je bent zo dom en lelijk.", Concern.offensive),
    ],
)
def test_dutch_comments_that_need_a_teacher(text, concern):
    assert flag(text, "nl").concern == concern


def test_the_most_urgent_concern_wins_when_a_comment_is_several_things():
    assert flag("Fucking idiot, I hope he kills himself", "en").concern == Concern.self_harm


def test_students_mix_languages_so_english_counts_in_a_dutch_evaluation():
    found = flag("Hij is echt een idiot en een loser.", "nl")
    assert found.concern == Concern.offensive and found.match in ("idiot", "loser")


@pytest.mark.parametrize(
    "text",
    [
        "She killed it at the final presentation!",
        "Great skills in Excel, and he kept everyone on schedule.",
        "Shoot him a message if the planning changes, he answers fast.",
        "I'll get you the file tomorrow, he said, and he did.",
        "The deadline was deadly tight but we made it.",
        "He hurt his ankle but still came to every meeting.",
        "Dead quiet in meetings, but his code is excellent.",
        "The cuts in the video were done really well.",
    ],
)
def test_everyday_english_is_not_flagged(text):
    assert flag(text, "en") is None


@pytest.mark.parametrize(
    "text",
    [
        "Dat was een killer presentatie, echt top.",
        "Ik sla je bestand op in de gedeelde map, zei hij altijd.",
        "Hij maakte het verslag netjes af.",
        "Zijn moeder heeft kanker gehad en toch was hij er elke week.",
        "Het was lullig dat de presentatie uitviel, niet zijn schuld.",
        "Hoera, we zijn op tijd klaar dankzij haar planning!",
        "Hij heeft de mongo database opgezet.",
        "Het licht flikkerde tijdens de presentatie maar ze bleef rustig.",
        "Ik steek je aan met mijn enthousiasme, zei ze, en dat klopte.",
        "Hij sloeg de spijker op de kop in het verslag.",
    ],
)
def test_everyday_dutch_is_not_flagged(text):
    assert flag(text, "nl") is None


def test_an_unknown_language_is_checked_as_english():
    assert flag("you're dead", "de").concern == Concern.threat
