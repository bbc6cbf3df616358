"""Criteria in the words people use for them: the name, a stem of it, or a synonym per language.

Schools name their criteria freely ("Samenwerking", "Quality of work",
"Bijdrage aan de groep"), and a summary that reads naturally names them in
other words ("samenwerken", "the quality of your work", "hoe je met anderen
samenwerkt"). The output guard accepts any of these for the weakest
criterion, and recognises a criterion-like noun that belongs to no scored
criterion. Concepts are matched to a criterion through the stems of its name,
so a criterion the table does not know is still found by name and stem.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from peerdigest.summarize.language import FUNCTION_WORDS, words

STEM = 5  # "plann" finds planning and plannen, "samen" samenwerking and samenwerken, "prese" presentatie and presenteren
# Words in criterion names that say nothing about which criterion it is.
_GENERIC = frozenset("groep group team teams werk work project aan van the of your je jouw".split())


@dataclass(frozen=True)
class Concept:
    """A kind of criterion: the stems that identify it in a name, nouns that name it, and phrases that describe it."""

    stems: tuple[str, ...]
    nouns: dict[str, tuple[str, ...]]
    phrases: dict[str, tuple[str, ...]]


CONCEPTS = (
    Concept(
        ("plann", "organ", "deadl", "time", "tijd", "agend"),
        {"nl": ("planning", "organisatie", "tijdmanagement"), "en": ("planning", "organisation", "organization",
                                                                     "time management")},
        {"nl": ("plannen", "plan", "deadline", "deadlines", "op tijd", "organiseren", "agenda", "vooruit"),
         "en": ("plan", "deadline", "deadlines", "on time", "organis", "organiz", "schedule", "ahead")},
    ),
    Concept(
        ("commu", "overl", "contact"),
        {"nl": ("communicatie",), "en": ("communication",)},
        {"nl": ("communiceren", "overleggen", "laten weten", "op de hoogte", "reageren", "appen", "bereikbaar"),
         "en": ("communicat", "keeping the group informed", "keep the group informed", "keep everyone",
                "letting the group know", "let the group know", "informed", "updated", "replying", "responding")},
    ),
    Concept(
        ("samen", "colla", "teamw", "coope"),
        {"nl": ("samenwerking", "teamwerk"), "en": ("collaboration", "teamwork", "cooperation")},
        {"nl": ("samenwerken", "met elkaar", "met anderen", "helpen", "helpt", "teamwerk"),
         "en": ("working together", "work together", "team work", "cooperat", "helping others", "with others")},
    ),
    Concept(
        ("inzet", "effor", "betro", "motiv", "commi", "inspa"),
        {"nl": ("inzet", "motivatie", "betrokkenheid", "inspanning"), "en": ("effort", "motivation", "commitment",
                                                                          "work ethic")},
        {"nl": ("je best", "hard werken", "hard gewerkt", "betrokken", "moeite", "gemotiveerd", "aan de slag"),
         "en": ("working hard", "hard work", "work hard", "trying hard", "motivated", "committed", "put in")},
    ),
    Concept(
        ("kwali", "quali", "nauwk", "zorgv", "preci", "accur"),
        {"nl": ("kwaliteit", "nauwkeurigheid", "zorgvuldigheid"), "en": ("quality", "accuracy", "precision")},
        {"nl": ("zorgvuldig", "nauwkeurig", "netjes", "slordig", "grondig", "controleren"),
         "en": ("the standard of your work", "how good your work", "careful", "precise", "thorough", "sloppy",
                "checking", "accurate")},
    ),
    Concept(
        ("prese", "spree", "spea"),
        {"nl": ("presentatie", "presentatievaardigheden"), "en": ("presentation", "presenting")},
        {"nl": ("presenteren", "presenteert", "spreken", "voor de klas", "je verhaal"),
         "en": ("present", "speaking", "in front of", "public speaking")},
    ),
    Concept(
        ("betrou", "relia", "afspr", "depen"),
        {"nl": ("betrouwbaarheid",), "en": ("reliability",)},
        {"nl": ("betrouwbaar", "afspraken", "nakomen", "op je rekenen", "op je kunnen rekenen"),
         "en": ("reliable", "keeping promises", "count on you", "dependable", "keep your word")},
    ),
    Concept(
        ("bijdr", "contr", "aande"),
        {"nl": ("bijdrage",), "en": ("contribution",)},
        {"nl": ("bijdragen", "je deel", "je aandeel"), "en": ("contribut", "your share", "your part")},
    ),
    Concept(
        ("creat", "idee", "ideas", "origi"),
        {"nl": ("creativiteit", "originaliteit"), "en": ("creativity", "originality")},
        {"nl": ("creatief", "ideeën", "ideeen", "origineel", "originele"), "en": ("creative", "ideas", "original")},
    ),
    Concept(
        ("leide", "leade", "initi"),
        {"nl": ("leiderschap", "initiatief"), "en": ("leadership", "initiative")},
        {"nl": ("leiding", "voortouw", "initiatief"), "en": ("leading", "take the lead", "taking the lead",
                                                           "initiative")},
    ),
    Concept(
        ("luist", "liste"),
        {"nl": ("luisteren",), "en": ("listening",)},
        {"nl": ("luister", "naar anderen"), "en": ("listen",)},
    ),
    Concept(
        ("onder", "resea", "bronn", "sourc"),
        {"nl": ("onderzoek",), "en": ("research",)},
        {"nl": ("onderzoek", "bronnen"), "en": ("research", "sources")},
    ),
    Concept(
        ("houdi", "attit", "instel"),
        {"nl": ("houding", "instelling"), "en": ("attitude",)},
        {"nl": ("houding", "instelling"), "en": ("attitude",)},
    ),
)


def stems(name: str) -> set[str]:
    """The stems that identify a criterion by its name: the first letters of its telling words."""
    common = FUNCTION_WORDS["nl"] | FUNCTION_WORDS["en"] | _GENERIC
    telling = [w for w in words(name) if w not in common]
    return {w[:STEM] for w in telling if len(w) >= 4}


def concepts_of(name: str) -> list[Concept]:
    found = stems(name)
    return [c for c in CONCEPTS if any(s.startswith(cs) or cs.startswith(s) for s in found for cs in c.stems)]


def has_phrase(text: str, phrase: str) -> bool:
    # Phrases match at a word start; a phrase that is a stem ("communicat") may go on ("communicating").
    return re.search(rf"(?<!\w){re.escape(phrase)}", text) is not None


def mentions(text: str, name: str, language: str) -> bool:
    """Whether `text` names the criterion `name`: by its name, a stem of it, or a synonym in `language`."""
    lowered = text.lower()
    if re.search(rf"(?<!\w){re.escape(name.lower())}(?!\w)", lowered):
        return True
    if any(has_phrase(lowered, stem) for stem in stems(name)):
        return True
    return any(
        has_phrase(lowered, phrase)
        for concept in concepts_of(name)
        for phrase in (*concept.nouns.get(language, ()), *concept.phrases.get(language, ()))
    )


def mentions_by_name(text: str, name: str) -> bool:
    """Whether `text` names the criterion by its name or a stem of it (synonyms are too loose to accuse)."""
    lowered = text.lower()
    if re.search(rf"(?<!\w){re.escape(name.lower())}(?!\w)", lowered):
        return True
    return any(has_phrase(lowered, stem) for stem in stems(name))


def criterion_nouns(text: str, language: str) -> list[tuple[str, Concept]]:
    """The criterion-like nouns in `text` ("creativity", "presentatie"), each with its concept."""
    lowered = text.lower()
    return [
        (noun, concept)
        for concept in CONCEPTS
        for noun in concept.nouns.get(language, ())
        if re.search(rf"(?<!\w){re.escape(noun)}(?!\w)", lowered)
    ]
