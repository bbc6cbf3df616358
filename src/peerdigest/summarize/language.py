"""Light language analysis without a network or a model: words, sentences, which language.

Good enough to tell a Dutch paragraph from an English, German, French or
Spanish one by its function words, and to count sentences the way a reader
would. It is a guard-rail, not a linguist: short fragments are "unknown".
"""

from __future__ import annotations

import re

# The most frequent function words of each language. Only nl and en are
# written; the others are here so that a French or German answer is recognised
# as such instead of merely scoring low on Dutch.
FUNCTION_WORDS = {
    "nl": frozenset(
        "de het een en van ik je jij jou jouw is dat die niet op te zijn met voor aan er maar om ook als dan bij nog "
        "wat wel naar kan door over heb hebt heeft was waren meer veel vaak goed hun ze zij wordt worden deze dit "
        "omdat zodat hoe waar wie mee uit tot geen soms altijd echt wat nu al iets".split()
    ),
    "en": frozenset(
        "the a an and of i you your is that it not on to be with for are but as at this have has was were by from "
        "they their them he she we what so if or can will would do does more when which there about how who also "
        "very well often always sometimes really just than too".split()
    ),
    "de": frozenset(
        "der die das und ist nicht ich du dich dein sie es ein eine mit auf für den dem des sich auch noch wie "
        "aber sehr wenn oder wird werden hat haben war immer kann".split()
    ),
    "fr": frozenset(
        "le la les et est un une des du de je tu vous ton votre il elle pas ne que qui pour dans sur avec très "
        "mais ou sont être avoir toujours au aux ce cette".split()
    ),
    "es": frozenset(
        "el la los las y es un una de del que en por con para no se su tu usted muy pero como más está son "
        "siempre al lo".split()
    ),
}

LANGUAGE_NAMES = {"nl": "Dutch", "en": "English", "de": "German", "fr": "French", "es": "Spanish"}

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*", re.UNICODE)
# A sentence ends at . ! ? or … followed by space and something that can start a
# sentence; "4.5", "e.g. this" and "bijv. dat" do not end one.
_SENTENCE_END = re.compile(r"(?:(?<=[.!?…])|(?<=[.!?…][\"'”’)]))\s+(?=[\"'“‘(\[*-]*[A-Z0-9À-ÖØ-Þ])")
_ABBREVIATIONS = ("bijv.", "bv.", "o.a.", "m.a.w.", "e.g.", "i.e.", "etc.", "ca.", "mr.", "ms.", "dr.", "nr.", "vs.")


def words(text: str) -> list[str]:
    """The words of `text`, lower-cased, without digits or punctuation."""
    return [w.lower() for w in _WORD.findall(text)]


def sentences(text: str) -> list[str]:
    """The sentences of `text`; every non-empty line counts as at least one (lists, headings)."""
    found: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        pending = ""
        for part in _SENTENCE_END.split(line):
            pending = f"{pending} {part}".strip() if pending else part.strip()
            if not pending.lower().endswith(_ABBREVIATIONS):
                found.append(pending)
                pending = ""
        if pending:
            found.append(pending)
    return [s for s in found if words(s)]


def detect(text: str, minimum_words: int = 6) -> str | None:
    """The language `text` is most likely written in, or None when it is too short to tell."""
    tokens = words(text)
    if len(tokens) < minimum_words:
        return None
    hits = {lang: sum(t in vocabulary for t in tokens) for lang, vocabulary in FUNCTION_WORDS.items()}
    best = max(hits, key=hits.get)
    if hits[best] < 2 or hits[best] < 0.1 * len(tokens):
        return None
    runner_up = max(count for lang, count in hits.items() if lang != best)
    return best if hits[best] > runner_up else None
