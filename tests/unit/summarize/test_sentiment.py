"""Praise or criticism: the small lexicon per language, with negation, contrast, emoji and swearing."""

import pytest

from peerdigest.summarize.sentiment import clauses, is_profane, polarity, without_emoji


@pytest.mark.parametrize(
    "text, language, sign",
    [
        ("Het deel van teamgenoot was netjes en goed onderbouwd.", "nl", +1),
        ("Teamgenoot kwam vaak te laat en leverde zijn deel pas na de deadline in.", "nl", -1),
        ("Reageert niet altijd op berichten.", "nl", -1),  # a bare negation is criticism in peer feedback
        ("Niet slecht!", "nl", +1),
        ("Ze laat altijd in de groepsapp weten hoe ver ze is.", "nl", 0),  # "laat weten" is not "te laat"
        ("Your part was neat and well researched.", "en", +1),
        ("He works hard.", "en", +1),
        ("Working together was hard.", "en", -1),
        ("Not bad at all.", "en", +1),
        ("Did not show up 👎", "en", -1),
        ("👍👍", "en", +1),
    ],
)
def test_a_remark_is_judged_as_praise_or_criticism(text, language, sign):
    value = polarity(text, language)
    assert (value > 0) - (value < 0) == sign


def test_a_remark_that_turns_is_judged_per_clause():
    parts = clauses("Teamgenoot werkt prima mee, maar zoekt soms te weinig contact met de groep.", "nl")
    assert parts == ["Teamgenoot werkt prima mee", "maar zoekt soms te weinig contact met de groep"]
    assert polarity(parts[0], "nl") > 0 > polarity(parts[1], "nl")


@pytest.mark.parametrize(
    "text, language",
    [("kut samenwerken zo", "nl"), ("echt klote laat", "nl"), ("What a fucking lazy guy", "en"),
     ("that sucks", "en"), ("Shit, soms ging het goed", "nl")],
)
def test_swearing_is_recognised_in_either_language(text, language):
    assert is_profane(text, language)
    assert polarity(text, language) < 0


@pytest.mark.parametrize("text", ["Hoera, het is af!", "A classic assignment", "Het kanaal was schoon"])
def test_ordinary_words_are_not_swearing(text):
    assert not is_profane(text, "nl") and not is_profane(text, "en")


def test_emoji_are_taken_out_of_a_text_that_is_shown():
    assert without_emoji("Creatief!! 🔥🔥 de montage was echt vet 👍") == "Creatief!! de montage was echt vet"
