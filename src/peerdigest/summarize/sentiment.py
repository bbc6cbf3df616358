"""Is a remark about a teammate praise or criticism? A small lexicon per language.

Peer comments are short and plain, so a hand-made list of the words students
actually use ("netjes", "te laat", "helps", "sloppy") with negation handling
does the job; the score a reviewer gave decides when the words do not.
Profanity counts as criticism and is recognised so it is never repeated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from peerdigest.summarize.language import words


@dataclass(frozen=True)
class Lexicon:
    positive: frozenset[str]
    negative: frozenset[str]
    negators: frozenset[str]
    # Words after which the remark turns ("goed, maar ..."): each side is judged on its own.
    contrast: frozenset[str]
    profanity: frozenset[str]  # whole words; "fuck*" is a word start and also catches "fucking"


def _set(text: str) -> frozenset[str]:
    return frozenset(text.split())


LEXICONS = {
    "nl": Lexicon(
        positive=_set(
            "goed goede prima top super fijn fijne prettig prettige sterk sterke sterkst netjes nette "
            "duidelijk duidelijke helder heldere hard harde behulpzaam helpt hielp helpen geholpen soepel "
            "betrouwbaar betrouwbare creatief creatieve origineel originele slim slimme handig handige "
            "gemotiveerd gemotiveerde enthousiast enthousiaste positief positieve vriendelijk rustig "
            "georganiseerd overzicht eerlijk eerlijke leuk leuke mooi mooie knap geweldig geweldige "
            "uitstekend uitstekende grondig grondige nauwkeurig nauwkeurige zorgvuldig zorgvuldige "
            "onderbouwd luistert luisteren meedenken waardeer waardering bedankt dank "
            "serieus lekker toppie"
        ),
        negative=_set(
            "slecht slechte slordig slordige lui weinig nauwelijks nooit fout fouten vergeten vergat "
            "afwezig rommelig chaotisch onduidelijk onduidelijke stil passief moeilijk lastig irritant "
            "jammer storend vervelend ongeïnteresseerd ongemotiveerd onbetrouwbaar niks niets achter "
            "slordigheid klagen klaagt kritiek probleem problemen ruzie boos frustrerend gefrustreerd "
            "helaas matig zwak zwakke ontbrak ontbreekt verbeterd verbeteren beter spijbelde telefoon "
            "gamen mist miste wisselt wisselend verschrikkelijk vreselijk waardeloos"
        ),
        negators=_set("niet geen nooit nauwelijks niemand"),
        contrast=_set("maar echter hoewel behalve"),
        profanity=_set(
            "kut* klote* kanker* tering* tyfus* godverdomme verdomme shit* fuck* lul eikel sukkel debiel "
            "mongool idioot klootzak* hoer flikker* wtf"
        ),
    ),
    "en": Lexicon(
        positive=_set(
            "good great nice excellent strong helpful helps helped clear clearly neat fair friendly reliable "
            "creative smart hardworking motivated enthusiastic positive organized organised thorough "
            "careful precise easy love loved awesome amazing fantastic brilliant solid kind calm "
            "listens listened supportive well best thanks appreciate appreciated "
            "dependable dedicated committed keen proud"
        ),
        negative=_set(
            "bad poor sloppy late lazy little rarely never mistakes mistake errors forgot forgets absent "
            "messy chaotic unclear quiet passive difficult annoying unfortunately unreliable nothing "
            "behind problem problems complain complained complains frustrating frustrated weak lacking "
            "missing missed careless rude bossy ignored ignores ignoring distracted phone gaming worse "
            "disappointing disappointed too barely varies terrible awful horrible useless"
        ),
        negators=_set("not no never hardly barely nobody don't didn't doesn't isn't wasn't won't can't couldn't"),
        contrast=_set("but though although however except"),
        profanity=_set(
            "fuck* shit* crap crappy damn* bloody asshole* ass bitch* bastard* dick dickhead idiot* moron* "
            "wtf sucks piss*"
        ),
    ),
}

POSITIVE_EMOJI = frozenset("😀😃😄😁😊🙂😍🥰👍👏💪🔥⭐🌟❤💯🙌✅🏆🥇😎🤩")
NEGATIVE_EMOJI = frozenset("👎😡😠🙄😒😤💩😴😞😩😫❌🤬😑")
_EMOJI = re.compile(
    "[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\uFE0F\u200D\u2300-\u23FF]+"
)


def lexicon(language: str) -> Lexicon:
    return LEXICONS.get(language, LEXICONS["en"])


def without_emoji(text: str) -> str:
    return re.sub(r"\s{2,}", " ", _EMOJI.sub("", text)).strip()


def is_profane(text: str, language: str) -> bool:
    """True when `text` contains a swear word of this language or of English (students mix)."""
    listed = lexicon(language).profanity | LEXICONS["en"].profanity
    exact = {w for w in listed if not w.endswith("*")}
    starts = tuple(w[:-1] for w in listed if w.endswith("*"))
    return any(word in exact or word.startswith(starts) for word in words(text))


def clauses(text: str, language: str) -> list[str]:
    """`text` cut at sentence ends and contrast words, so "good, but late" gives two judgements."""
    contrast = lexicon(language).contrast
    parts: list[str] = []
    for piece in re.split(r"[.!?;:\n]+|,\s*(?=\w)", text):
        current: list[str] = []
        for token in piece.split():
            if token.lower().strip(",") in contrast and current:
                parts.append(" ".join(current))
                current = []
            current.append(token)
        if current:
            parts.append(" ".join(current))
    return [p for p in parts if words(p)]


def _ambiguous(token: str, before: list[str], after: list[str], language: str) -> int:
    """Words whose judgement depends on their neighbours; 0 for any other word.

    Dutch "laat" is "late" ("kwam te laat") but also "lets" ("laat weten hoe
    ver ze is"); English "hard" is praise next to work ("works hard", "hard
    worker") and criticism elsewhere ("working together was hard").
    """
    if language == "nl" and token == "laat":
        return 0 if {"weten", "zien", "horen", "merken", "blijken"} & set(after) else -1
    if language == "en" and token == "hard":
        near = before[-2:] + after[:1]
        return 1 if any(w.startswith(("work", "tri", "try")) for w in near) else -1
    return 0


NEGATION_REACH = 2  # a negation turns a judgement word at most this many words after it ("niet echt goed")


def polarity(text: str, language: str) -> int:
    """Praise (> 0), criticism (< 0) or neither (0), counted over words, negations and emoji.

    A negated positive word counts as criticism ("niet duidelijk"); a negated
    negative word as mild praise ("not bad"); a negation with no judgement word
    near it is criticism too, since in peer feedback "reageert niet" is one.
    """
    lex = lexicon(language)
    tokens = words(text)
    total = 0
    negation_pending = False
    negated_at = 0
    for index, token in enumerate(tokens):
        if negation_pending and index - negated_at > NEGATION_REACH:
            total -= 1  # "never answers and always late": the negation ended before "late"
            negation_pending = False
        if token in lex.negators:
            if negation_pending:
                total -= 1  # two negations without a judgement word between them
            negation_pending = True
            negated_at = index
            continue
        value = (token in lex.positive) - (token in lex.negative) or _ambiguous(
            token, tokens[:index], tokens[index + 1 :], language
        )
        if value:
            total += -value if negation_pending else value
            negation_pending = False
    if negation_pending:
        total -= 1
    total += sum(ch in POSITIVE_EMOJI for ch in text) - sum(ch in NEGATIVE_EMOJI for ch in text)
    if is_profane(text, language):
        total -= 2
    return total
