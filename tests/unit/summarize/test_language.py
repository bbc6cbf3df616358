"""The light language check: which language a text is in, and how many sentences it has."""

import pytest

from peerdigest.summarize.language import detect, sentences


@pytest.mark.parametrize(
    "text, language",
    [
        ("Je teamgenoten waarderen dat je hard werkt en dat je anderen helpt als ze vastlopen.", "nl"),
        ("Your teammates value that you work hard and that you help others when they get stuck.", "en"),
        ("Deine Teamkollegen schätzen, dass du hart arbeitest und den anderen immer hilfst.", "de"),
        ("Tes coéquipiers apprécient que tu travailles dur et que tu aides les autres dans le groupe.", "fr"),
        ("Tus compañeros valoran que trabajas mucho y que siempre ayudas a los demás en el grupo.", "es"),
    ],
)
def test_a_paragraph_is_recognised_by_its_function_words(text, language):
    assert detect(text) == language


def test_a_fragment_is_too_short_to_tell():
    assert detect("Top gedaan!") is None
    assert detect("👍👍👍") is None


def test_sentences_are_counted_the_way_a_reader_counts_them():
    text = ("Je sterkste punt is inzet (gemiddeld 4,3 van de 5). Een teamgenoot schreef: \u201cTop gedaan!\u201d "
            "Dat zie je bijv. aan je planning. Your average is 3.7 out of 5! Is that clear? Yes.")
    assert sentences(text) == [
        "Je sterkste punt is inzet (gemiddeld 4,3 van de 5).",
        "Een teamgenoot schreef: \u201cTop gedaan!\u201d",
        "Dat zie je bijv. aan je planning.",
        "Your average is 3.7 out of 5!",
        "Is that clear?",
        "Yes.",
    ]


def test_every_line_of_a_list_counts_as_a_sentence():
    assert len(sentences("Strengths:\n- hard work\n- clear explanations\n\nTip: plan ahead")) == 4
