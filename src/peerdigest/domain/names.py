"""Names of an evaluation's members in every form a teenager writes them, found and replaced.

Students rarely write a teammate's name as the class list spells it: "jan",
"Jans deel", "Jantje", "Mo" for Mohammed, "Chris" for Christopher, "Tommy",
"JB". Every member's name therefore yields a set of forms: the full name, its
parts (first name, surname, halves of a double name), short forms (the first
syllable or two, a small table of pet forms), Dutch and English diminutives
and pet forms (-je, -tje, -pje, -etje, -ie, -y), initials, each also with a
possessive and matched without regard to case or accents.

Some names are ordinary words too (Joy, Iris, Mees, Sky, Vos, and short forms
like "Dan" or "Max"). Replacing those everywhere garbles sentences ("it was a
teammate to work with"), so they count only where they are used as a name:
capitalized (except when they open a sentence the ordinary way: "Dan is het
af"), followed by a possessive, or in address ("hey joy", "@joy"). The same rules find names in what an
LLM wrote, so the output guard rejects exactly what the anonymizer would have
replaced.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

# Particles are part of Dutch surnames but also everyday words; never a name on their own.
_PARTICLES = frozenset(
    {"van", "de", "der", "den", "het", "ten", "ter", "te", "la", "le", "du", "da", "di", "von", "'t", "el", "al"}
)

# Words that are names as well as ordinary Dutch or English words, and the short words a
# short form could collide with. Kept by hand: a frequency list cannot tell "joy" the word
# from Joy the girl, because names are frequent words too.
ORDINARY_WORDS = frozenset(
    """
    joy iris mees sky vos roos storm bo lot max ben bas al dan fleur jade amber ivy lily poppy holly daisy
    sunny summer hope grace faith rose ruby dawn april may june jack will mark rob bill pat sterre lieve
    zon maan noor vera wolf fox bos berg dijk hoek haan kok smit visser bakker boer mulder dekker klein groot
    prins koster brink meer wit zwart groen king young brown white green black wood hill long strong
    baker smith cook miller fisher park hall wall page rich love star rain river brook glen sage jay kit
    lies els job boy sop an and the are art bar car cat can con dat der die doe don dot een eer emo end
    for fat gem man mar mat met min mis nat net nog non not now oma opa pet ros son ten ter til toe ton
    van ven via wel wil win zij hij hun het
    em ol ed ad jo fie lie dik ant ton toon peer chuck fem
    """.split()
)
# Pet forms no rule derives, by the name they come from (lower case).
PET_FORMS = {
    "mohammed": ("mo", "momo", "moos"), "mohamed": ("mo", "momo"), "muhammad": ("mo",),
    "alexander": ("alex", "lex", "sander", "xander"), "alexandra": ("alex", "lexie", "sandra"),
    "sebastiaan": ("bas", "seb"), "sebastian": ("seb", "bas"), "johannes": ("hans", "joop", "jo"),
    "elisabeth": ("lies", "els", "lisa", "betty"), "elizabeth": ("liz", "lizzy", "beth", "betty"),
    "catharina": ("karin", "rina", "tineke"), "katherine": ("kate", "katie", "kat", "kathy"),
    "william": ("will", "bill", "billy", "liam"), "robert": ("rob", "bob", "bobby", "robbie"),
    "richard": ("rick", "richie", "rich"), "margaret": ("maggie", "meg", "peggy"), "james": ("jim", "jimmy", "jamie"),
    "joseph": ("joe", "joey"), "daniel": ("dan", "danny", "daan"), "benjamin": ("ben", "benny", "benji"),
    "nicholas": ("nick", "nicky"), "nicolaas": ("klaas", "niek"), "cornelis": ("kees", "cor"),
    "abdelkader": ("abdel",), "abdullah": ("abdul",), "jonathan": ("jon", "jonny", "jonna"),
    "matthijs": ("thijs", "mats"), "maximiliaan": ("max",), "maximilian": ("max",), "wilhelmina": ("mien", "willy"),
    "gerardus": ("gerard", "gert", "ger"), "theodoor": ("theo", "door"), "anastasia": ("ana", "stacy", "tasha"),
    "christopher": ("chris", "topher"), "christiaan": ("chris", "stijn"), "josephine": ("josie", "fien", "jo"),
    # Common English and Dutch nicknames and short forms of names on today's class lists.
    "oliver": ("olly", "ollie", "oli", "ol"), "olivia": ("liv", "livvy", "olly", "ollie", "oli"),
    "emma": ("em", "emmy", "emmie"), "emily": ("em", "emmy", "milly"), "amelia": ("amy", "millie", "mia"),
    "lucas": ("luke", "luc", "luuk"), "luuk": ("luc", "luke"), "lukas": ("luke", "luc"),
    "thomas": ("tom", "tommy", "thom"), "samuel": ("sam", "sammy"), "samantha": ("sam", "sammy"),
    "isabella": ("bella", "izzy", "isa"), "isabel": ("bella", "izzy", "isa"), "isabelle": ("bella", "izzy", "isa"),
    "charlotte": ("lotte", "lot", "charlie", "lottie"), "charles": ("charlie", "chuck"),
    "frederik": ("freek", "fred", "freddy"), "frederick": ("fred", "freddie", "freddy"),
    "anthony": ("tony", "ant"), "antonius": ("toon", "ton"), "edward": ("ed", "eddie", "ted", "teddy"),
    "matthew": ("matt", "matty"), "michael": ("mike", "mikey", "mick"), "michiel": ("mich", "chiel"),
    "jennifer": ("jen", "jenny"), "rebecca": ("becky", "becca"), "victoria": ("vicky", "tori"),
    "jacob": ("jake", "jaap", "koos"), "jakob": ("jaap", "koos"), "joshua": ("josh",),
    "nathaniel": ("nate", "nat"), "nathan": ("nate", "nat"), "zachary": ("zach", "zack"),
    "gabriel": ("gabe", "gabi"), "gabriella": ("gabi", "ella"), "eleanor": ("ellie", "nora", "elle"),
    "madeleine": ("maddie", "mady"), "madison": ("maddie",), "abigail": ("abby", "abbie"),
    "hendrik": ("henk", "rik", "hein"), "henricus": ("henk", "rik"), "wilhelmus": ("wim", "willem"),
    "willem": ("wim", "pim"), "pieter": ("piet",), "petrus": ("piet", "peer"), "johanna": ("jo", "hanna", "anneke"),
    "adriaan": ("ad", "arie", "adri"), "bartholomeus": ("bart",), "dirk": ("dik",), "gerrit": ("gert", "gerrie"),
    "jozef": ("jos", "sjef", "joep"), "josephus": ("jos", "sjef", "joep"), "maarten": ("tijn",), "martinus": ("tijn", "martin"),
    "stephanie": ("steph", "steffie"), "stefanie": ("steffie", "steff"), "yasmina": ("yas", "mina"),
    "yasmine": ("yas", "mina"), "fatima": ("fati", "tima"), "ibrahim": ("ibo", "brahim"), "mustafa": ("musti",),
    "ahmed": ("ahmet",), "youssef": ("yous", "joe"), "yusuf": ("yous",), "mehmet": ("memo",),
    "noortje": ("noor",), "anouk": ("nouk",), "femke": ("fem",), "sophie": ("soof", "soph", "fie"),
    "sofie": ("soof", "fie"), "julia": ("juul", "jules"), "juliette": ("juul", "jules"), "lieke": ("lie",),
}
PEER_WORD = {"nl": "teamgenoot", "en": "teammate"}

_VOWELS = "aeiouyàáâäãåèéêëìíîïòóôöõøùúûüýÿ"
# Students type "Zoe" for Zoë and "Chloe" for Chloë (and the other way round): letters match their accented forms.
_ACCENTED = {
    "a": "aàáâäãå", "e": "eèéêë", "i": "iìíîï", "o": "oòóôöõø", "u": "uùúûü", "c": "cç", "n": "nñ", "y": "yÿý",
}
_BASE = {accented: base for base, group in _ACCENTED.items() for accented in group}
_POSSESSIVE = r"(?P<possessive>['’]s|['’]|s)?"
# Words before an ordinary noun ("a joy", "the sky", "de vos"): after one of these a name-word is just a word.
_DETERMINERS = frozenset(
    "a an the my your his her our their this that such pure real de het een mijn je jouw zijn haar onze jullie hun "
    "die deze dit dat wat".split()
)
# Words that follow a name as its verb ("joy presented", "hope was on her phone", "mees werkte").
_VERBS = frozenset(
    "is was has had did does said says made makes helped helps kept keeps took gave always never really also just "
    "heeft deed doet zei zegt maakte maakt hielp helpt hield houdt nam gaf kwam komt werkt werkte altijd nooit echt ook "
    "kan kon moet moest wil wilde zou zal zat ging liet kwam stond las vergat bleef sliep went got sat left forgot "
    "read wrote came took ran".split()
)
_GREETING = r"(?:hoi|hey|hi|hai|hallo|hello|yo|thanks|thank\s+you|thx|bedankt|dank\s+je|dankjewel|sorry|@)"
# Words that open ordinary sentences ("Dan is het af", "Hope you..."): never a name at the start of one.
# Any other name-word that starts a sentence is taken for the name: in peer feedback "Roos hielp" is far
# more likely than a sentence about roses.
_SENTENCE_OPENERS = frozenset(
    "al an and are can dan dat der die doe een for het hij hun job let man met mis net nog not now "
    "ten ter the toe van via wel wil win zij".split()
)
# Name-words that are function words: a verb after them says nothing ("dan is het af", "will always").
_FUNCTION_WORDS = _SENTENCE_OPENERS - {"job", "man", "win"}
# "Ben je klaar?", "Hope you liked it", "Will you help?": a name-word followed by a pronoun opens a question or wish.
_PRONOUNS = frozenset("je jij u ik we wij you i we they".split())

@dataclass(frozen=True)
class NameForms:
    """The forms of the members' names: `anywhere` is replaced wherever it occurs, `as_name` only where used as a name."""

    anywhere: tuple[str, ...]
    as_name: tuple[str, ...]
    initials: tuple[str, ...]


def _clean(name: str) -> str:
    return " ".join(name.split())


def _syllable_forms(first: str) -> set[str]:
    """"Chris" from Christopher, "Kim" from Kimberley, "Alex" from Alexander: one or two syllables and a consonant."""
    lower = first.lower()
    found: set[str] = set()
    index, syllables = 0, 0
    while index < len(lower) and syllables < 2:
        while index < len(lower) and lower[index] not in _VOWELS:
            index += 1
        while index < len(lower) and lower[index] in _VOWELS:
            index += 1
        if index >= len(lower):
            break
        index += 1  # the consonant that closes the syllable
        syllables += 1
        form = lower[:index]
        if 3 <= len(form) <= 5 and len(form) <= len(lower) - 2:
            found.add(form)
            if form.startswith("th"):
                found.add("t" + form[2:])
    return found


def _diminutives(base: str) -> set[str]:
    """Dutch and English pet forms: Jantje, Basje, Kimpje, Jannetje, Tommy, Sammie, Annie (from Anna)."""
    base = base.lower()
    if len(base) < 3:
        return set()  # "Bo" + "y" is a boy: two letters leave too little to tell a pet form from a word
    stems = {base}
    if base[-1] in "aeo" and len(base) >= 4:
        stems.add(base[:-1])  # Anna -> Annie, Lotte -> Lotje
    found: set[str] = set()
    for stem in stems:
        found.update(stem + ending for ending in ("je", "tje", "pje", "etje", "ie", "y", "ey", "ke"))
        if stem[-1] not in _VOWELS:
            doubled = stem + stem[-1]
            found.update(doubled + ending for ending in ("etje", "ie", "y"))
    found.discard(base)
    return found


def _initials(parts: list[str]) -> set[str]:
    surname = [p for p in parts[1:] if p.lower() not in _PARTICLES]
    if not parts or not surname:
        return set()
    a, b = parts[0][0].upper(), surname[-1][0].upper()
    return {f"{a}{b}", f"{a}.{b}.", f"{a}. {b}.", f"{a}.{b}"}


@lru_cache(maxsize=256)
def name_forms(roster: tuple[str, ...]) -> NameForms:
    """Every form of every member's name, split by whether it is also an ordinary word."""
    forms: set[str] = set()
    initials: set[str] = set()
    for name in roster:
        member, member_initials = _member_forms(name)
        forms |= member
        initials |= member_initials
    # "de vos" is a surname with its particle, and also just "the fox": ordinary when every word is.
    as_name = {f for f in forms if all(w in ORDINARY_WORDS or w in _PARTICLES for w in f.split(" "))}
    # Longest first, ties alphabetically: two sorts with C-level keys (stable), as every job's roster is sorted anew.
    by_length = lambda found: tuple(sorted(sorted(found), key=len, reverse=True))  # noqa: E731
    return NameForms(by_length(forms - as_name), by_length(as_name), by_length(initials))



@lru_cache(maxsize=8192)
def _member_forms(raw: str) -> tuple[frozenset[str], frozenset[str]]:
    """One member's forms and initials. Cached by member: each job's roster is the evaluation's without its own
    student, a roster of its own, so a cache of whole rosters misses on every job while the members repeat."""
    name = _clean(raw)
    if not name:
        return frozenset(), frozenset()
    forms = {name.lower()}
    parts = name.split(" ")
    surname = [p for p in parts[1:]]
    if len(surname) > 1:
        forms.add(" ".join(surname).lower())
    pieces = [piece for part in parts for piece in ([part, *part.split("-")] if "-" in part else [part])]
    forms.update(p.lower() for p in pieces if len(p) >= 2 and p.lower() not in _PARTICLES)
    first_names = [p for p in (parts[0], *parts[0].split("-")) if len(p) >= 2]
    short: set[str] = set()
    for first in first_names:
        short |= _syllable_forms(first)
        short |= set(PET_FORMS.get(first.lower(), ()))
    forms |= short
    for base in {*(f.lower() for f in first_names), *short}:
        forms |= _diminutives(base)
    return frozenset(forms), frozenset(_initials(parts))


def _loose(form: str) -> str:
    out = []
    for ch in form:
        base = _BASE.get(ch.lower())
        out.append(f"[{_ACCENTED[base]}]" if base else (r"\s+" if ch == " " else re.escape(ch)))
    return "".join(out)


@dataclass(frozen=True)
class _Patterns:
    anywhere: re.Pattern[str] | None
    as_name: re.Pattern[str] | None
    initials: re.Pattern[str] | None


# One pattern for every form of every member of a big evaluation (thousands of alternatives) takes
# seconds to compile, and a new work horse starts with empty caches. So a text gets a pattern of
# only the forms that can occur in it: those whose first word starts one of its words.
_WORD = re.compile(r"\w+")


def _fold(text: str) -> str:
    """Lower case without accents, as `_loose` matches: "Zoë" -> "zoe"."""
    return "".join(_BASE.get(ch, ch) for ch in text.lower())


@lru_cache(maxsize=65536)
def _first_word(form: str) -> str | None:
    """A form's first word, folded (cached: every job's roster repeats the members' forms)."""
    first = _WORD.search(_fold(form))
    return first.group() if first else None


@dataclass(frozen=True)
class _Index:
    """A roster's forms of one kind by their first word (folded), each with its place in the longest-first order."""

    by_first_word: dict[str, list[tuple[int, str]]]
    without_word: list[tuple[int, str]]  # a form with no word character cannot be judged by its first word

    @classmethod
    def of(cls, found: tuple[str, ...]) -> _Index:
        by_first_word: dict[str, list[tuple[int, str]]] = {}
        without_word = []
        for place, form in enumerate(found):
            first = _first_word(form)
            if first:
                by_first_word.setdefault(first, []).append((place, form))
            else:
                without_word.append((place, form))
        return cls(by_first_word, without_word)

    def possible(self, starts: set[str]) -> tuple[str, ...]:
        """The forms whose first word is in `starts`, still longest first."""
        hits = [hit for start in starts for hit in self.by_first_word.get(start, ())]
        return tuple(form for _, form in sorted(hits + self.without_word))


@dataclass(frozen=True)
class _Forms:
    forms: NameForms
    anywhere: _Index
    as_name: _Index


@lru_cache(maxsize=256)
def _roster_forms(roster: tuple[str, ...]) -> _Forms:
    forms = name_forms(roster)
    return _Forms(forms, _Index.of(forms.anywhere), _Index.of(forms.as_name))


def _patterns_for(text: str, roster: tuple[str, ...]) -> _Patterns:
    """The patterns of the roster's forms that may occur in `text` (same matches as all of them)."""
    known = _roster_forms(roster)
    # Looked up by the text's word prefixes, not by trying every form: a big evaluation has thousands.
    starts = {word[:n] for word in _WORD.findall(_fold(text)) for n in range(1, len(word) + 1)}
    return _patterns(known.anywhere.possible(starts), known.as_name.possible(starts), known.forms.initials)


@lru_cache(maxsize=4096)
def _patterns(anywhere: tuple[str, ...], as_name: tuple[str, ...], initials: tuple[str, ...]) -> _Patterns:
    def compile_(found: tuple[str, ...], flags: int, possessive: str = _POSSESSIVE) -> re.Pattern[str] | None:
        if not found:
            return None
        alternatives = "|".join(_loose(f) for f in found)
        return re.compile(rf"(?<![\w])(?P<name>{alternatives}){possessive}(?![\w])", flags)

    return _Patterns(
        compile_(anywhere, re.IGNORECASE),
        compile_(as_name, re.IGNORECASE),
        # Initials are capitals, matched as written: "jb" or "j.b." in lower case are not initials.
        re.compile(rf"(?<![\w.])(?P<name>{'|'.join(re.escape(i) for i in initials)})(?P<possessive>['’]s)?(?![\w])")
        if initials
        else None,
    )


_SENTENCE_START = re.compile(r"(?:^|[.!?]\s+|\n\s*|[\"“(]\s*)$")
_ADDRESS_BEFORE = re.compile(rf"(?:^|[\s,])(?:{_GREETING})[\s,]*$", re.IGNORECASE)


def _used_as_name(text: str, match: re.Match[str]) -> bool:
    """Whether an ordinary word that is also a member's name stands in `text` as that name."""
    word = match.group("name")
    possessive = match.group("possessive")
    if possessive == "s":
        # "Skys deel", "Robs part": a possessive without an apostrophe, told from a plural ("Stars are", "roses")
        # by its capital and by no verb after it.
        following = re.match(r"\s+([\w'-]+)", text[match.end():])
        after = following.group(1).lower() if following else ""
        return word[:1].isupper() and after not in _PLURAL_VERBS
    if possessive:
        return True
    before = text[: match.start()]
    if before.endswith("@") or _ADDRESS_BEFORE.search(before):
        return True
    previous = re.search(r"([\w']+)\W*$", before)
    capitalized_inside = word[:1].isupper() and not _SENTENCE_START.search(before)
    if previous and previous.group(1).lower() in _DETERMINERS and not capitalized_inside:
        return False  # "a joy", "the sky", "de vos"; but "zei dat Els" ("dat" also joins a clause)
    following = re.match(r"\s+([\w'-]+)", text[match.end():])
    if following and _is_verb(following.group(1).lower(), after=word.lower()) and word.lower() not in _FUNCTION_WORDS:
        return True  # "joy presented", "hope was on her phone": students write names in lower case too
    if _SENTENCE_START.search(before):
        if following and following.group(1).lower() in _PRONOUNS:
            return False
        return word.lower() not in _SENTENCE_OPENERS  # no article before it: "Roos hielp", "mees zat"
    return any(part[:1].isupper() for part in word.split())  # capitalized in the middle of a sentence


_PLURAL_VERBS = frozenset("are were have had do did can could will would zijn waren hebben hadden kunnen konden zullen "
                          "worden werden gaan gingen".split())
_MODALS = frozenset({"will", "may"})  # "will always help" is a modal verb, "Will was late" a name
_PAST = frozenset("was is has had did does".split())


def _is_verb(word: str, after: str) -> bool:
    # A listed verb or adverb, or a regular past tense ("presented", "werkte", "maakte").
    past = len(word) > 4 and word.endswith(("ed", "de", "te"))
    return past or word in (_PAST if after in _MODALS else _VERBS)


_AND = re.compile(r"\s*(?:,|&|\ben\b|\band\b|\bof\b|\bor\b|\bmet\b|\bwith\b)\s*", re.IGNORECASE)


def _next_to_a_name(text: str, match: re.Match[str], taken: list[tuple[int, int]]) -> bool:
    """"Sanne en iris", "iris and Chris": a name-word listed with another name is one too."""
    return any(
        _AND.fullmatch(text[end : match.start()]) or _AND.fullmatch(text[match.end() : start]) for start, end in taken
    )


def find_names(text: str, roster: tuple[str, ...] | list[str], unlisted: bool = True) -> list[tuple[int, int, str]]:
    """Where `text` names a member (and, with `unlisted`, a person on no roster quoted by name):
    (start, end, possessive) for each, in order, none overlapping."""
    patterns = _patterns_for(text, tuple(roster))
    found: list[tuple[int, int, str]] = []
    taken: list[tuple[int, int]] = []
    for pattern, judge in ((patterns.anywhere, None), (patterns.initials, None), (patterns.as_name, _used_as_name)):
        if pattern is None:
            continue
        for match in pattern.finditer(text):
            span = match.span()
            if any(span[0] < end and start < span[1] for start, end in taken):
                continue
            if judge is None or judge(text, match) or _next_to_a_name(text, match, taken):
                taken.append(span)
                found.append((span[0], span[1], match.group("possessive") or ""))
    for start, end, possessive in (*_spelling_variants(text, tuple(roster)), *(_reported_names(text) if unlisted else ())):
        if not any(start < taken_end and taken_start < end for taken_start, taken_end in taken):
            taken.append((start, end))
            found.append((start, end, possessive))
    return sorted(found)


# -- names the forms above miss: a spelling variant, a name that is on no roster -----------------------

_LETTERS = re.compile(r"[^\W\d_]+(?:['’]s)?")
# Frequent Dutch and English words of 4+ letters that lie one letter from a common name ("daar" and Daan,
# "mark" and Marc, "home" and Hoare): never a spelling variant, whatever their place in a sentence.
_FREQUENT = frozenset(
    """
    daar door deze dit dat die dus maar waar wanneer hier toen soms vaak ook echt heel goed waren werd worden
    want omdat zodat alle alles niet niets veel meer mijn zijn haar hun onze jouw over naar voor tegen zonder
    samen eerst later laat snel klaar werk deel taak team groep idee plan week dag elke even eens elke mooi
    then there these those when what where here this that with were have been from they them their your
    also just very well good work part task team idea plan week late mark home hard help made make said tell
    sure only once both each most some many such much will would could should about after before again
    """.split()
)
_SPELLED_MIN = 4  # shorter names have too many ordinary words one letter away ("Sem": "sam", "zem", "som")


@lru_cache(maxsize=256)
def _spellings(roster: tuple[str, ...]) -> dict[str, set[str]]:
    """The roster's given names and surnames of 4+ letters (folded), indexed by themselves and by every
    form with one letter left out: two words one edit apart share a key (a "symmetric delete" index),
    so a word is compared with a handful of names instead of every name of a big evaluation."""
    index: dict[str, set[str]] = {}
    for name in map(_clean, roster):
        for part in name.split(" "):
            for piece in {part, *part.split("-")}:
                folded = _fold(piece)
                if len(folded) < _SPELLED_MIN or folded in _PARTICLES or folded in ORDINARY_WORDS:
                    continue
                for key in {folded, *(folded[:i] + folded[i + 1:] for i in range(len(folded)))}:
                    index.setdefault(key, set()).add(folded)
    return index


def _one_edit_apart(a: str, b: str) -> bool:
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) == 1
    short, long = sorted((a, b), key=len)
    return any(long[:i] + long[i + 1:] == short for i in range(len(long)))


def _spelling_variants(text: str, roster: tuple[str, ...]) -> list[tuple[int, int, str]]:
    """"Mohammed" for Mohamed, "Sanna" for Sanne: a capitalised word one edit from a roster name of 4+ letters,
    used as a name (mid-sentence, or opening one with a verb after it), and no ordinary word."""
    index = _spellings(roster)
    found = []
    for match in _LETTERS.finditer(text):
        word = match.group()
        possessive = word[-2:] if word[-2:] in ("'s", "’s") else ""
        bare = word[: len(word) - len(possessive)]
        folded = _fold(bare)
        # A name of 4+ letters misspelt one shorter is 3 ("Ema" for Emma): the word may be one under the minimum.
        if len(folded) < _SPELLED_MIN - 1 or not bare[:1].isupper() or folded in ORDINARY_WORDS or folded in _FREQUENT:
            continue
        keys = {folded, *(folded[:i] + folded[i + 1:] for i in range(len(folded)))}
        if not any(_one_edit_apart(folded, name) for key in keys for name in index.get(key, ())):
            continue
        if _SENTENCE_START.search(text, 0, match.start()) or match.start() == 0:
            following = re.match(r"\s+([\w'-]+)", text[match.end():])
            verb = following.group(1).lower() if following else ""
            # Opening a sentence it needs a verb after it: a listed or past-tense one, or a present tense
            # ("talks", "werkt"), so "Beste groep" or "Dames en heren" stay as they are.
            present = len(verb) > 3 and verb.endswith(("s", "t")) and verb not in _PRONOUNS
            if not (_is_verb(verb, after="") or verb in _REPORTING or present):
                continue
        found.append((match.start(), match.end(), possessive))
    return found


# Verbs that report what someone said or thought: a capitalised word right before one is a person.
_REPORTING = frozenset(
    """
    said says say thinks thought wrote writes told tells mentioned mentions noted notes feels felt claims claimed
    reported complained added agrees agreed explained explains suggested suggests admitted asked asks
    zei zegt zeiden vond vindt vonden schreef schrijft vertelde vertelt meldde meldt noemde noemt merkte merkt
    klaagde klaagt meent meende dacht denkt gaf geeft vroeg vraagt legde stelde stelt
    gezegd geschreven verteld genoemd gemeld aangegeven gedacht geklaagd gevraagd written
    """.split()
)
# Capitalised words that stand before such a verb without being a name.
_NOT_PEOPLE = frozenset(
    """
    he she they it we i you someone somebody everyone everybody nobody anyone anybody one two three both all
    others most some many several few each teammate teammates teacher mentor coach group team people who
    hij zij ze het wij we ik jij je u iemand iedereen niemand men een twee drie beiden allebei alle allen
    anderen sommigen velen enkelen meesten teamgenoot teamgenoten docent leraar lerares mentor coach groep
    team wie this that these those dit dat die deze mijn my his her their hun haar zijn onze our your jouw
    mr mrs ms miss meneer mevrouw juf meester
    maandag dinsdag woensdag donderdag vrijdag zaterdag zondag monday tuesday wednesday thursday friday saturday
    sunday januari februari maart april mei juni juli augustus september oktober november december january
    february march may june july august october
    """.split()
)
_REPORTED = re.compile(
    r"(?<![\w.])(?P<name>[A-ZÀ-Ý][a-zà-ÿ]+(?:-[A-ZÀ-Ý][a-zà-ÿ]+)?)(?P<possessive>['’]s)?"
    r"(?=\s+(?:(?:heeft|had|has|have)\s+)?(?P<verb>[a-zà-ÿ]+)\b(?:\s+(?P<next>[a-zà-ÿ]+))?)"
)
_ACCORDING_TO = re.compile(r"\b(?i:volgens|according\s+to)\s+(?P<name>[A-ZÀ-Ý][a-zà-ÿ]+(?:-[A-ZÀ-Ý][a-zà-ÿ]+)?)")
# The subject after the verb in a Dutch inversion ("Toen zei hij", "Verder vond ik"): then the word before
# the verb is an adverb, not a person.
_INVERTED_SUBJECT = frozenset("hij zij ze ik je jij we wij men iedereen niemand iemand u".split())


def _reported_names(text: str) -> list[tuple[int, int, str]]:
    """"Pieter zei dat...", "according to Kevin": a person quoted by name, on the roster or not."""
    found = []
    for match in _REPORTED.finditer(text):
        if match.group("verb") not in _REPORTING or match.group("name").lower() in _NOT_PEOPLE:
            continue
        if (match.group("next") or "") in _INVERTED_SUBJECT:
            continue
        found.append((match.start("name"), match.end("possessive") if match.group("possessive") else match.end("name"),
                      match.group("possessive") or ""))
    for match in _ACCORDING_TO.finditer(text):
        if match.group("name").lower() not in _NOT_PEOPLE:
            found.append((match.start("name"), match.end("name"), ""))
    return found


def mentions_a_name(text: str, roster: tuple[str, ...] | list[str]) -> bool:
    return bool(find_names(text, roster))


# The student's own name in a comment about them is "you" where that reads right, else a placeholder:
# replaced by the peer word it would read as being about someone else.
OWN_WORDS = {
    "nl": {"possessive": "je", "object": "jou", "subject": "[naam]"},
    "en": {"possessive": "your", "object": "you", "subject": "[name]"},
}
_PREPOSITIONS = frozenset(
    "with to for from about at by of than like behind after before met aan voor van over bij naar tegen zonder "
    "dan als achter na".split()
)


_THIRD_PERSON = re.compile(r"\b(?:hij|zij|ze|hem|haar|zijn|he|she|him|her|his|hers)\b", re.IGNORECASE)


def replace_names_for(text: str, roster: tuple[str, ...] | list[str], student: str, language: str) -> str:
    """`text`, about `student`, with teammates' names replaced by the peer word and the student's own by
    "you"/"jou" (after a preposition), "your"/"je" (a possessive) or "[name]"/"[naam]" (anywhere else,
    where "you" would need another verb form, or where the comment calls the student "he" or "she")."""
    peer = PEER_WORD.get(language, PEER_WORD["en"])
    own_words = OWN_WORDS.get(language, OWN_WORDS["en"])
    others = tuple(name for name in roster if _clean(name) != _clean(student))
    own = find_names(text, (student,), unlisted=False)
    spans = [(start, end, possessive, False) for start, end, possessive in find_names(text, others, unlisted=False)]
    spans += [(start, end, possessive, True) for start, end, possessive in own]
    # A person quoted by name who is not the student: on no roster, so a teammate as far as anyone can tell.
    spans += [(start, end, possessive, False) for start, end, possessive in _reported_names(text)
              if not any(start < own_end and own_start < end for own_start, own_end, _ in own)]
    # "you" reads right only in a comment that does not go on about the student as "he" or "she".
    third_person = bool(_THIRD_PERSON.search(text))
    words = []
    for start, end, possessive, own in _merged(spans):
        previous = re.search(r"([\w']+)\W*$", text[:start])
        if not own:
            # "Jan's" -> "teammate's"; Dutch "Jans" and "Thomas'" just lose the possessive ("teamgenoot").
            word = peer + possessive if len(possessive) == 2 else peer
        elif third_person:
            word = own_words["subject"]
        elif possessive:
            word = own_words["possessive"]
        elif previous and previous.group(1).lower() in _PREPOSITIONS:
            word = own_words["object"]
        else:
            word = own_words["subject"]
        words.append((start, end, word))
    return _rewrite(text, words)


def _merged(spans: list[tuple[int, int, str, bool]]) -> list[tuple[int, int, str, bool]]:
    """Overlapping spans as one; it is the student's own only when no teammate's name is part of it (a form
    two members share, or a name on no roster, is a teammate as far as anyone can tell)."""
    merged: list[list] = []
    for start, end, possessive, own in sorted(spans):
        if merged and start < merged[-1][1]:
            last = merged[-1]
            if end > last[1]:
                last[1], last[2] = end, possessive
            last[3] = last[3] and own
        else:
            merged.append([start, end, possessive, own])
    return [tuple(span) for span in merged]


def _rewrite(text: str, spans: list[tuple[int, int, str]]) -> str:
    """`text` with each (start, end) span replaced by its word, capitalised where it opens a sentence."""
    out: list[str] = []
    last = 0
    for start, end, word in spans:
        if (_SENTENCE_START.search(text, 0, start) or start == 0) and not word.startswith("["):
            word = word[:1].upper() + word[1:]
        out.append(text[last:start])
        out.append(word)
        last = end
    out.append(text[last:])
    return "".join(out)
