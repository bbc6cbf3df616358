"""Comments a teacher should read themself: offensive, threatening, or about self-harm.

A small hand-made list per language (nl, en) of insults, threats and words
about self-harm, as whole words and short patterns; no network, no model. A
flagged comment is shown to the teacher beside the summary and counted in the
evaluation table; it is never shown to the student. A flag only asks a person
to look: the lists prefer a comment too many over a threat missed, but stay
clear of everyday words ("killed it", "skills", "dat maakt hij af").

Each comment is checked against its evaluation's language and English, because
students mix the two.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Concern(StrEnum):
    # In order of urgency: a comment that is several things is flagged as the most urgent.
    self_harm = "self_harm"
    threat = "threat"
    offensive = "offensive"


@dataclass(frozen=True)
class Flag:
    concern: Concern
    match: str  # the words that raised it, for the teacher's eye


def _words(*alternatives: str) -> str:
    return r"\b(?:" + "|".join(alternatives) + r")\b"


_PERSON_EN = r"(?:you|him|her|them|u)"
_SELF_EN = r"(?:myself|himself|herself|themselves|themself)"
_PERSON_NL = r"(?:je|jou|jij|hem|haar|ze|jullie)"
_SELF_NL = r"(?:mezelf|mijzelf|zichzelf|hemzelf|haarzelf)"

PATTERNS: dict[str, dict[Concern, tuple[str, ...]]] = {
    "en": {
        Concern.self_harm: (
            _words(r"suicid\w*", r"self[- ]?harm\w*"),
            rf"\b(?:kill|hurt|cut|harm)(?:s|ing)? {_SELF_EN}\b",
            r"\bend(?:s|ing)? (?:my|his|her|their) (?:own )?life\b",
            r"\b(?:want|wants|wanted|wanting) to die\b",
            r"\b(?:no|nothing to) (?:reason to )?live for\b|\bbetter off dead\b",
        ),
        Concern.threat: (
            rf"\b(?:i|we)(?:'ll| will| am going to|'m going to| am gonna|'m gonna| gonna) "
            rf"(?:kill|hurt|beat|punch|stab|shoot|smash) {_PERSON_EN}\b",
            # Not "shoot" or "get" alone: "shoot him a message", "I'll get you the file".
            rf"\b(?:kill|stab) {_PERSON_EN}\b",
            rf"\bbeat {_PERSON_EN} up\b",
            r"\bwatch (?:your|his|her) back\b",
            r"\b(?:you're|you are|he's|he is|she's|she is) (?:so )?dead\b",
            r"\bi know where (?:you|he|she|they) lives?\b",
            r"\bbring(?:ing)? a (?:knife|gun)\b",
        ),
        Concern.offensive: (
            _words(
                r"fuck\w*", r"cunts?", r"bitch\w*", r"asshole\w*", r"bastards?", r"dickheads?", r"idiots?",
                r"morons?", r"retard\w*", r"faggots?", r"losers?", r"sluts?", r"whores?", r"piece of shit",
                r"shut up", r"kys", r"go die",
            ),
            r"\b(?:you're|you are|he's|he is|she's|she is|they're|they are) (?:so |such an? |an? |really |just )*"
            r"(?:stupid|dumb|ugly|worthless|pathetic|retarded|disgusting)\b",
            rf"\bnobody (?:likes|wants) {_PERSON_EN}\b",
        ),
    },
    "nl": {
        Concern.self_harm: (
            _words(r"zelfmoord\w*", r"su[iï]cid\w*", r"zelfbeschadig\w*"),
            rf"\b{_SELF_NL} (?:iets )?(?:aandoen|aan te doen|snijden|pijn doen|van kant maken)\b",
            r"\bvan kant (?:maken|te maken)\b",
            r"\b(?:wil|wilde|wilt|willen) (?:ik |hij |zij |ze )?(?:dood|niet meer leven)\b",
            r"\ber een (?:eind|einde) aan (?:maken|te maken|wil maken)\b",
            r"\bniet meer (?:willen |wil )?leven\b",
        ),
        Concern.threat: (
            # Only with how: "ik sla je bestand op" and "ik steek je aan" are everyday Dutch.
            rf"\b(?:maak|maken|sla|slaan|steek|steken|schiet|schieten) (?:ik )?{_PERSON_NL} "
            r"(?:af|dood|neer|kapot|verrot|in elkaar)\b",
            r"\bin elkaar (?:slaan|trappen|rammen|timmeren)\b",
            rf"\b(?:vermoord|vermoorden|doodmaken|neersteken) {_PERSON_NL}\b",
            r"\b(?:je bent|jij bent|hij is|zij is) (?:er )?geweest\b",
            r"\b(?:je|jij|hij|zij|ze) (?:gaat|gaan) eraan\b",
            r"\bik weet waar (?:je|jij|hij|zij|ze) woont\b",
            r"\b(?:mes|wapen|pistool) (?:mee|meenemen|meebrengen)\b",
        ),
        Concern.offensive: (
            _words(
                r"kut\w*", r"tering\w*", r"tyfus\w*", r"klootzak\w*", r"hoer(?:en|enzoon|enjong)?", r"flikkers?", r"mongool", r"mongolen",
                r"debiel(?:e|en)?", r"idioot", r"idioten", r"eikel", r"lul", r"sukkels?", r"achterlijk\w*",
                r"rot op", r"hou je (?:bek|kop|smoel)", r"kanker(?!onderzoek|patiënt|behandeling|bestrijding)\w*",
            ),
            r"\b(?:je bent|jij bent|hij is|zij is|ze is) (?:zo |echt |een |gewoon )*"
            r"(?:dom|stom|lelijk|waardeloos|nutteloos|walgelijk)e?\b",
            rf"\bniemand (?:mag|wil) {_PERSON_NL}\b",
        ),
    },
}

# Someone who has an illness is not cursing: "hij heeft kanker gehad" is news, not an insult.
_NOT_A_CURSE = re.compile(r"\b(?:heeft|had|hebben|aan|tegen|met|van) kanker\b")


@dataclass(frozen=True)
class _Compiled:
    concern: Concern
    pattern: re.Pattern[str]


def _compile(language: str) -> tuple[_Compiled, ...]:
    """The patterns of `language` and of English, most urgent concern first."""
    languages = [language, "en"] if language in PATTERNS and language != "en" else ["en"]
    return tuple(
        _Compiled(concern, re.compile(pattern, re.IGNORECASE))
        for concern in Concern
        for lang in languages
        for pattern in PATTERNS[lang][concern]
    )


_COMPILED = {language: _compile(language) for language in PATTERNS}


def flag(text: str, language: str) -> Flag | None:
    """Why a teacher should read this comment themself, or None."""
    plain = _NOT_A_CURSE.sub(" ", " ".join(text.lower().replace("\u2019", "'").split()))
    for compiled in _COMPILED.get(language, _COMPILED["en"]):
        found = compiled.pattern.search(plain)
        if found:
            return Flag(compiled.concern, found.group(0))
    return None
