"""What peer comments are about: the handful of themes students write about in a team project.

Each theme knows the words that point to it and how to say, in the second
person, that a student is good at it or should work on it, plus one
practical tip. The builtin summarizer uses this to paraphrase remarks instead
of quoting comments that talk about "teamgenoot" in the third person.
Praise phrases follow "dat"/"that" (Dutch word order: verb last).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Wording:
    praise: str  # "je hard werkt" — completes "… waarderen dat"
    critique: str  # "je inzet wisselt" — completes "… geven aan dat"
    tip: str  # completes "Een tip voor <criterium>: …"


@dataclass(frozen=True)
class Theme:
    key: str
    keywords: dict[str, re.Pattern[str]]
    wording: dict[str, Wording]

    def found_in(self, text: str, language: str) -> bool:
        pattern = self.keywords.get(language) or self.keywords["en"]
        return bool(pattern.search(text.lower()))


def _words(*alternatives: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)")


THEMES = (
    Theme(
        "deadlines",
        {
            "nl": _words(r"deadlines?", r"te laat", r"op tijd", r"afspra(?:ak|ken)", r"ingeleverd", r"inleveren",
                         r"leverde\w*", r"laatste moment", r"uitstel", r"nakomen", r"komt \w+ \w+ na"),
            "en": _words(r"deadlines?", r"late", r"on time", r"promises?", r"handed in", r"hand(?:s|ed)? in",
                         r"last[ -]minute", r"in time"),
        },
        {
            "nl": Wording("je je afspraken nakomt en je werk op tijd af hebt",
                          "je deel niet altijd op tijd af is",
                          "zet voor elke taak een eigen deadline in je agenda, een dag vóór de echte, en meld het "
                          "meteen in de groep als je die niet haalt."),
            "en": Wording("you keep your promises and finish your work on time",
                          "your part is not always finished on time",
                          "put your own deadline for each task in your planner, a day before the real one, and "
                          "tell the group straight away when you are going to miss it."),
        },
    ),
    Theme(
        "updates",
        {
            "nl": _words(r"groepsapp", r"app", r"berichte?n?", r"reageer\w*", r"reageert", r"laat \w+ weten",
                         r"liet \w* ?weten", r"op de hoogte", r"mee bezig", r"communic\w*", r"terug in", r"vertel\w*"),
            "en": _words(r"group chat", r"chat", r"messages?", r"repl(?:y|ies|ied)", r"answers? messages",
                         r"let us know", r"keeps? (?:us|everyone) (?:posted|updated|informed)", r"working on",
                         r"communicat\w*", r"tells?", r"told", r"updates?"),
        },
        {
            "nl": Wording("je iedereen goed op de hoogte houdt",
                          "ze niet altijd weten waar je mee bezig bent",
                          "stuur na elke werksessie één kort bericht in de groepsapp: wat je gedaan hebt en wat "
                          "je nog gaat doen."),
            "en": Wording("you keep everyone up to date",
                          "they do not always know what you are working on",
                          "after every work session, post one short message in the group chat: what you did and "
                          "what you will do next."),
        },
    ),
    Theme(
        "helping",
        {
            "nl": _words(r"help\w*", r"hielp\w*", r"geholpen", r"uitleg\w*", r"legt \w+(?: \w+)? uit", r"vastl[oi]\w*",
                         r"ondersteun\w*"),
            "en": _words(r"help\w*", r"explain\w*", r"stuck", r"support\w*"),
        },
        {
            "nl": Wording("je anderen helpt",
                          "je anderen weinig helpt als ze vastlopen",
                          "vraag aan het begin van elke les wie ergens mee vastzit, en bied daar je hulp bij aan."),
            "en": Wording("you help others",
                          "you rarely help others when they get stuck",
                          "at the start of each lesson, ask who is stuck on something and offer to help."),
        },
    ),
    Theme(
        "listening",
        {
            "nl": _words(r"luister\w*", r"mening\w*", r"meedenk\w*", r"meedacht", r"denkt \w+ mee", r"dacht \w* ?mee",
                         r"overleg\w*", r"beslis\w*", r"discussie\w*", r"staat open", r"inbreng", r"uitpraten",
                         r"onderbr\w*", r"omver", r"door \w+ heen"),
            "en": _words(r"listen\w*", r"opinions?", r"discussions?", r"decid\w*", r"decisions?", r"input",
                         r"open to", r"meetings?", r"talks? over", r"interrupt\w*", r"lets? \w+ finish",
                         r"a word in"),
        },
        {
            # Criticism here is about not hearing others out (talking over them, brushing ideas aside), so the
            # tip is to listen first; telling such a student to speak up more would be the opposite of the point.
            "nl": Wording("je goed luistert en meedenkt met de groep",
                          "je niet altijd naar anderen luistert of hen laat uitpraten",
                          "laat bij het volgende groepsoverleg iedereen uitpraten en vat het idee van een ander eerst "
                          "in je eigen woorden samen voordat je het jouwe geeft."),
            "en": Wording("you listen well and think along with the group",
                          "you do not always listen to others or let them finish",
                          "in the next group meeting, let everyone finish and sum up someone else's idea in your own "
                          "words before you give yours."),
        },
    ),
    Theme(
        "organising",
        {
            "nl": _words(r"overzicht", r"verde(?:el|elt|elde|ling)\w*", r"taken", r"taak", r"plann?\w*", r"organis\w*",
                         r"leiding", r"structuur", r"rooster", r"regelt", r"regelde"),
            "en": _words(r"overview", r"split\w*", r"divid\w*", r"tasks?", r"plan\w*", r"organi[sz]\w*", r"lead\w*",
                         r"structure", r"schedule\w*"),
        },
        {
            "nl": Wording("je het overzicht houdt en het werk goed verdeelt",
                          "het overzicht en de planning van je werk nog beter kunnen",
                          "maak aan het begin van een project samen een takenlijst met namen en data, en kijk die "
                          "elke week even na."),
            "en": Wording("you keep the overview and divide the work well",
                          "the planning of your work could be tighter",
                          "at the start of a project, make a task list with names and dates together, and check it "
                          "briefly every week."),
        },
    ),
    Theme(
        "together",
        {
            "nl": _words(r"liever alleen", r"alleen (?:werk|bezig|aan)\w*", r"in (?:zijn|haar|je) eentje", r"eigen ding", r"afstem\w*", r"afgestemd", r"stemde \w+(?: \w+)? af", r"contact",
                         r"samenwerk\w*", r"samen te werken", r"samen"),
            "en": _words(r"alone", r"own thing", r"coordinat\w*", r"checks? in", r"checked in", r"together",
                         r"collaborat\w*", r"team player", r"work(?:ing)? with"),
        },
        {
            "nl": Wording("je fijn samenwerkt en dingen goed met de groep afstemt",
                          "je vaak liever alleen werkt en weinig afstemt met de groep",
                          "laat bij elke taak iemand uit je groep meekijken voordat je hem afmaakt, zodat jullie op "
                          "één lijn blijven."),
            "en": Wording("you are easy to work with and coordinate well with the group",
                          "you often prefer to work alone and rarely coordinate with the group",
                          "before you finish a task, show it to someone in your group, so you stay on the same page."),
        },
    ),
    Theme(
        "effort",
        {
            "nl": _words(r"inzet", r"hard", r"moeite", r"zet zich \w* ?in", r"motivatie", r"gemotiveerd\w*",
                         r"belangrijk", r"lui", r"na school", r"weinig gedaan", r"niks gedaan", r"niets gedaan",
                         r"telefoon", r"gamen", r"bijdrage", r"betrokken", r"afwezig", r"doet wat er gevraagd"),
            "en": _words(r"effort", r"hard", r"works? hard", r"motivat\w*", r"cared?", r"cares", r"lazy",
                         r"after school", r"did (?:nothing|little)", r"phone", r"gaming", r"contribut\w*",
                         r"involved", r"absent", r"committed", r"does what is asked"),
        },
        {
            "nl": Wording("je hard werkt en je echt inzet voor het project",
                          "je inzet wisselt en je bijdrage soms klein is",
                          "kies elke week één concrete taak die jij afmaakt, en laat aan het eind van de week zien "
                          "wat je gedaan hebt."),
            "en": Wording("you work hard and are really committed to the project",
                          "your effort varies and your contribution is sometimes small",
                          "pick one concrete task each week that you finish yourself, and show the group what you "
                          "did at the end of the week."),
        },
    ),
    Theme(
        "care",
        {
            "nl": _words(r"netjes", r"nauwkeurig\w*", r"precie\w*", r"fout\w*", r"slordig\w*", r"nakijk\w*",
                         r"nagekeken", r"controle\w*", r"bronnen", r"onderbouw\w*", r"kwaliteit", r"verbeterd",
                         r"uitwerking", r"grondig\w*", r"zorgvuldig\w*"),
            "en": _words(r"neat", r"accurate", r"precise", r"mistakes?", r"errors?", r"sloppy", r"check\w*",
                         r"sources", r"research\w*", r"quality", r"fix\w*", r"careful\w*", r"careless", r"thorough",
                         r"details?"),
        },
        {
            "nl": Wording("je werk netjes en goed onderbouwd is",
                          "er in je werk nog fouten of slordigheden zitten",
                          "lees je deel een keer helemaal na voordat je het inlevert, of vraag iemand uit je groep "
                          "om het na te kijken."),
            "en": Wording("your work is neat and well researched",
                          "your work still contains mistakes or careless bits",
                          "read your part through once before you hand it in, or ask someone in your group to "
                          "check it."),
        },
    ),
    Theme(
        "ideas",
        {
            "nl": _words(r"idee\w*", r"creatie\w*", r"origine\w*", r"initiatief", r"bedenk\w*", r"bedacht",
                         r"voorstel\w*"),
            "en": _words(r"ideas?", r"creativ\w*", r"original\w*", r"initiative", r"came up with", r"comes? up with",
                         r"suggest\w*"),
        },
        {
            "nl": Wording("je met goede ideeën komt en initiatief neemt",
                          "je nog weinig initiatief neemt",
                          "kom naar de volgende bespreking met één eigen idee of voorstel, hoe klein ook."),
            "en": Wording("you come up with good ideas and take initiative",
                          "you rarely take the initiative",
                          "bring one idea or proposal of your own to the next meeting, however small."),
        },
    ),
    Theme(
        "tone",
        {
            "nl": _words(r"toon", r"respect\w*", r"vriendelijk\w*", r"bot", r"ruzie", r"boos", r"sfeer", r"aardig",
                         r"gezellig", r"irritant", r"commandeer\w*", r"bazig", r"schreeuw\w*"),
            "en": _words(r"tone", r"respect\w*", r"friendly", r"rude", r"argu(?:e|ed|es|ing)", r"angry", r"mood", r"kind",
                         r"bossy", r"atmosphere", r"shout\w*", r"yell\w*"),
        },
        {
            "nl": Wording("je vriendelijk bent en zorgt voor een goede sfeer",
                          "je toon soms anders overkomt dan je bedoelt",
                          "als je het ergens niet mee eens bent, zeg dan eerst wat je goed vindt aan het idee van de "
                          "ander, en daarna wat je anders zou doen."),
            "en": Wording("you are friendly and help the group feel good",
                          "your tone sometimes comes across differently than you mean it",
                          "when you disagree, first say what you like about the other person's idea, then what you "
                          "would do differently."),
        },
    ),
)


def themes_in(text: str, language: str) -> tuple[Theme, ...]:
    return tuple(theme for theme in THEMES if theme.found_in(text, language))
