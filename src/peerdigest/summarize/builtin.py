"""The builtin summarizer: deterministic, no network, Dutch or English.

It reads the feedback the way a teacher would before talking to a student:
what do the scores say is strongest and weakest, what do the comments praise
and criticise (judged clause by clause with the sentiment lexicon, the score
deciding when the words do not), which themes come back from several
teammates, and which comment says it best. Then it writes at most seven
sentences in the second person: strengths first, at most two points to work
on, one practical tip. Comments are paraphrased through themes; a comment is
quoted only when it reads well on its own (short, one sentence, no
"teamgenoot"/"he"/"she", no swearing), and the quoted one is the most typical
of its kind by word similarity, not the first one found.
"""

from __future__ import annotations

import math
import re
import time
from collections import Counter, defaultdict
from dataclasses import dataclass

from peerdigest.domain.feedback import (
    PEER_WORD,
    Comment,
    CriterionScore,
    ReceivedFeedback,
)
from peerdigest.summarize import Summary
from peerdigest.summarize.injection import screen
from peerdigest.summarize.language import FUNCTION_WORDS, detect, sentences, words
from peerdigest.summarize.sentiment import clauses, is_profane, polarity, without_emoji
from peerdigest.summarize.themes import Theme, themes_in

MAX_SENTENCES = 7
QUOTE_MAX_WORDS = 25

TEXT = {
    "nl": {
        "empty": "Je teamgenoten hebben nog geen opmerkingen bij je werk geschreven, dus er is nog niets samen te vatten.",
        "empty_scores": "Je teamgenoten hebben nog geen opmerkingen bij je werk geschreven, alleen scores gegeven.",
        "one_reviewer": "Je hebt feedback van één teamgenoot gekregen; lees dit dus als de blik van één persoon.",
        "all_positive": "Je teamgenoten zijn heel positief over je bijdrage aan het project.",
        "all_negative": "Je teamgenoten vonden de samenwerking dit keer lastig, maar hun feedback geeft je duidelijke "
                        "punten om mee aan de slag te gaan.",
        "mixed": "Je teamgenoten zien duidelijke sterke punten in je werk, en ook een paar dingen die beter kunnen.",
        "mostly_critical": "Je teamgenoten zien een paar goede dingen in je werk, maar vooral punten die beter kunnen.",
        "strongest": "Je sterkste punt is {criteria} (gemiddeld {average} van de {top}).",
        "strongest_two": "Je sterkste punten zijn {criteria} (gemiddeld {average} van de {top}).",
        "relatively": "Relatief het sterkst is je {criteria} (gemiddeld {average} van de {top}).",
        "relatively_two": "Relatief het sterkst zijn je {criteria} (gemiddeld {average} van de {top}).",
        "balanced": "Je scores liggen dicht bij elkaar, rond de {average} van de {top}.",
        "only": "Voor {criteria} krijg je gemiddeld {average} van de {top}.",
        "praise": "{who} vooral dat {clauses}.",
        "praise_who": ("Je teamgenoot waardeert", "Een teamgenoot waardeert", "Meerdere teamgenoten waarderen"),
        "quote_praise": "Een teamgenoot schreef: \u201c{text}\u201d",
        "quote_critique": "Een teamgenoot schreef daarover: \u201c{text}\u201d",
        "weakest": "Een punt om aan te werken is {criteria} (gemiddeld {average}).",
        "weakest_two": "Punten om aan te werken zijn {criteria} (gemiddeld {average}).",
        "grow": "Wil je nog verder groeien, dan is {criteria} de plek om te beginnen: daar scoor je iets lager "
                "(gemiddeld {average}).",
        "critique": "{who} aan dat {clauses}.",
        "critique_alone": "Als verbeterpunt {who} aan dat {clauses}.",
        "critique_who": ("Je teamgenoot geeft", "Een teamgenoot geeft", "Meerdere teamgenoten geven"),
        "critique_alone_who": ("geeft je teamgenoot", "geeft een teamgenoot", "geven meerdere teamgenoten"),
        "tip": "Een praktische tip: {tip}",
        "tip_general": "Een praktische tip: vraag na de volgende les aan iemand uit je groep wat je bij {criteria} "
                       "concreet anders kunt doen, en probeer dat meteen.",
        "keep_going": "Ga zo door, en help je groep ook eens met de dingen waar jij goed in bent.",
        "disagree": "Over {criteria} verschillen je teamgenoten van mening: de een is er tevreden over, de ander "
                    "ziet het juist als een werkpunt.",
        "harsh": "Niet elke opmerking was even vriendelijk verwoord; die zijn hier in eigen woorden samengevat.",
        "and": "en",
        "also": "en dat",
        "decimal": ",",
    },
    "en": {
        "empty": "Your teammates have not written any comments about your work yet, so there is nothing to summarize.",
        "empty_scores": "Your teammates have not written any comments about your work yet, only scores.",
        "one_reviewer": "You received feedback from one teammate, so read this as one person's view.",
        "all_positive": "Your teammates are very positive about your contribution to the project.",
        "all_negative": "Your teammates found working together difficult this time, but their feedback gives you "
                        "clear points to work on.",
        "mixed": "Your teammates see clear strengths in your work, and a few things that could be better.",
        "mostly_critical": "Your teammates see a few good things in your work, but mostly points that could be better.",
        "strongest": "Your strongest point is {criteria} (an average of {average} out of {top}).",
        "strongest_two": "Your strongest points are {criteria} (an average of {average} out of {top}).",
        "relatively": "Relatively, your strongest point is {criteria} (an average of {average} out of {top}).",
        "relatively_two": "Relatively, your strongest points are {criteria} (an average of {average} out of {top}).",
        "balanced": "Your scores are close together, around {average} out of {top}.",
        "only": "For {criteria} you received an average of {average} out of {top}.",
        "praise": "{who} that {clauses}.",
        "praise_who": ("Your teammate especially values", "One teammate especially values",
                       "Several teammates especially value"),
        "quote_praise": "One teammate wrote: \u201c{text}\u201d",
        "quote_critique": "One teammate wrote about this: \u201c{text}\u201d",
        "weakest": "One point to work on is {criteria} (an average of {average}).",
        "weakest_two": "Points to work on are {criteria} (an average of {average}).",
        "grow": "If you want to grow further, {criteria} is the place to start: it scores a little lower "
                "(an average of {average}).",
        "critique": "{who} that {clauses}.",
        "critique_alone": "As a point to work on, {who} that {clauses}.",
        "critique_who": ("Your teammate mentions", "One teammate mentions", "Several teammates mention"),
        "critique_alone_who": ("your teammate mentions", "one teammate mentions", "several teammates mention"),
        "tip": "A practical tip: {tip}",
        "tip_general": "A practical tip: after the next lesson, ask someone in your group what you could do "
                       "differently for {criteria}, and try it straight away.",
        "keep_going": "Keep it up, and share the things you are good at with your group.",
        "disagree": "Your teammates disagree about {criteria}: one is happy with it, another sees it as a point "
                    "to work on.",
        "harsh": "Not every comment was worded kindly; those are summarized here in plain words.",
        "and": "and",
        "also": "and that",
        "decimal": ".",
    },
}

# Third-person words that make a quoted comment read oddly to the student it is about.
_THIRD_PERSON = {
    "nl": frozenset("hij hem zijn haar zij ze zich".split()),
    "en": frozenset("he him his she her hers they them their himself herself".split()),
}


@dataclass(frozen=True)
class Remark:
    """One clause of one comment, judged: praise (+1), criticism (-1) or neither (0), and what it is about."""

    comment: Comment
    tone: int
    themes: tuple[Theme, ...]


class BuiltinSummarizer:
    method = "builtin"

    def summarize(self, feedback: ReceivedFeedback, *, final_attempt: bool = True) -> Summary:
        started = time.monotonic()
        screened = screen(feedback).feedback
        text = self.write(screened)
        method = "empty" if not screened.comments else self.method
        return Summary(text=text, method=method, duration_ms=int((time.monotonic() - started) * 1000))

    def write(self, feedback: ReceivedFeedback) -> str:
        """The summary of feedback that was already screened for orders (see `injection.screen`)."""
        return " ".join(_Writer(feedback).sentences())


class _Writer:
    def __init__(self, feedback: ReceivedFeedback):
        self.feedback = feedback
        self.language = feedback.language if feedback.language in TEXT else "en"
        self.t = TEXT[self.language]
        self.scored = sorted(feedback.scored_criteria, key=lambda c: c.average, reverse=True)
        self.scales = {c.criterion_id: (c.min_score, c.max_score) for c in feedback.criteria}
        self.remarks = [remark for comment in feedback.comments for remark in self._judge(comment)]
        self.unscored = [c.name for c in feedback.criteria if c.average is None]

    # -- the text ------------------------------------------------------------------------------------

    def sentences(self) -> list[str]:
        if not self.feedback.comments:
            return self._keep([self.t["empty_scores"] if self.scored else self.t["empty"], *self._scores_only()])
        weakest = self._weakest()
        praise, critique = _settle(self._themes(+1, focus=self._top()), self._themes(-1, focus=weakest or []))
        # (priority, sentence) in reading order; the lowest priorities go first when over the limit.
        plan: list[tuple[int, str | None]] = [
            (10, self._opening()),
            (9, self._strongest()),
            (8, self._praise(praise)),
            (3, self._quote(+1)),
            (4, self._disagreement()),
            (7, self._weakness(weakest)),
            (8, self._critique(critique, alone=weakest is None)),
            (2, self._quote(-1) if not critique else None),
            (6, self._tip(critique, weakest)),
            (5, self.t["harsh"] if any(is_profane(c.text, self.language) for c in self.feedback.comments) else None),
        ]
        chosen = [(p, s) for p, s in plan if s and not self._mentions_unscored(s)]
        while len(chosen) > MAX_SENTENCES:
            chosen.remove(min(chosen, key=lambda item: item[0]))
        return [s for _, s in chosen]

    def _keep(self, found: list[str | None]) -> list[str]:
        return [s for s in found if s and not self._mentions_unscored(s)][:MAX_SENTENCES]

    def _scores_only(self) -> list[str | None]:
        return [self._strongest(), self._weakness(self._weakest())]

    def _opening(self) -> str:
        if self.feedback.reviewer_count == 1:
            return self.t["one_reviewer"]
        tones = Counter(r.tone for r in self.remarks)
        levels = [_level(c) for c in self.scored]
        if not tones[-1] and all(level >= 0.65 for level in levels):
            return self.t["all_positive"]
        if not tones[+1] and all(level <= 0.5 for level in levels):
            return self.t["all_negative"]
        if tones[-1] > tones[+1] and (not levels or sum(levels) / len(levels) <= 0.5):
            return self.t["mostly_critical"]
        return self.t["mixed"]

    def _strongest(self) -> str | None:
        if not self.scored:
            return None
        if len(self.scored) == 1:
            return self._fill("only", [self.scored[0]])
        if self.scored[0].average - self.scored[-1].average < 0.5:
            mean = sum(c.average for c in self.scored) / len(self.scored)
            return self.t["balanced"].format(average=self._number(mean), top=self._number(self.scored[0].max_score))
        top = self._top()
        if not top:
            return None
        kind = "relatively" if _level(top[0]) < 0.6 else "strongest"
        return self._fill(kind + ("_two" if len(top) == 2 else ""), top)

    def _top(self) -> list[CriterionScore]:
        """The highest criteria when one or two stand out."""
        if len(self.scored) < 2 or self.scored[0].average - self.scored[-1].average < 0.5:
            return []
        top = [c for c in self.scored if self.scored[0].average - c.average <= 0.25]
        return top if len(top) <= 2 else []

    def _weakest(self) -> list[CriterionScore] | None:
        """The lowest criteria when the spread warrants naming them (one or two of them)."""
        if len(self.scored) < 2 or self.scored[0].average - self.scored[-1].average < 0.75:
            return None
        bottom = [c for c in self.scored if c.average - self.scored[-1].average <= 0.25]
        return bottom if len(bottom) <= 2 else None

    def _weakness(self, weakest: list[CriterionScore] | None) -> str | None:
        if not weakest:
            return None
        if all(_level(c) >= 0.65 for c in weakest):
            return self._fill("grow", weakest[:1])
        return self._fill("weakest_two" if len(weakest) == 2 else "weakest", weakest)

    def _praise(self, ranked: list[tuple[Theme, set[int]]]) -> str | None:
        return self._about(ranked[:2], "praise", "praise_who", lambda theme: theme.wording[self.language].praise)

    def _critique(self, ranked: list[tuple[Theme, set[int]]], alone: bool) -> str | None:
        template = "critique_alone" if alone else "critique"
        return self._about(ranked[:2], template, template + "_who", lambda theme: theme.wording[self.language].critique)

    def _about(self, ranked, template: str, who: str, phrase) -> str | None:
        if not ranked:
            return None
        reviewers = set().union(*(found for _, found in ranked))
        subject = self.t[who][0 if self.feedback.reviewer_count == 1 else 2 if len(reviewers) > 1 else 1]
        joined = f" {self.t['also']} ".join(phrase(theme) for theme, _ in ranked)
        sentence = self.t[template].format(who=subject, clauses=joined)
        return sentence[0].upper() + sentence[1:]

    def _tip(self, critique: list[tuple[Theme, set[int]]], weakest: list[CriterionScore] | None) -> str | None:
        if critique:
            return self.t["tip"].format(tip=critique[0][0].wording[self.language].tip)
        if weakest and not all(_level(c) >= 0.65 for c in weakest):
            return self.t["tip_general"].format(criteria=self._names(weakest[:1]))
        if self._opening() == self.t["all_positive"]:
            return self.t["keep_going"]
        return None

    def _disagreement(self) -> str | None:
        """A criterion one reviewer clearly praised and another clearly criticised."""
        tones: dict[int, dict[int, set[int]]] = defaultdict(lambda: defaultdict(set))
        for comment in self.feedback.comments:
            # Only the scores count here: two reviewers who both gave a 3 do not disagree, whatever their words.
            tone = self._score_tone(comment)
            if tone:
                tones[comment.criterion_id][tone].add(comment.reviewer)
        for criterion in self.scored:
            found = tones.get(criterion.criterion_id, {})
            if found.get(1, set()) - found.get(-1, set()) and found.get(-1, set()) - found.get(1, set()):
                return self.t["disagree"].format(criteria=self._names([criterion]))
        return None

    def _quote(self, tone: int) -> str | None:
        """The most typical comment of this tone, when one reads well as a quote."""
        group = [c for c in self.feedback.comments if self._comment_tone(c) == tone]
        readable = [c for c in group if self._reads_well(c.text) and self._consistent(c.text, tone)]
        if not readable:
            return None
        best = max(readable, key=lambda c: (sum(_similarity(c.text, o.text) for o in group if o is not c), -len(c.text)))
        text = without_emoji(best.text).strip()
        if text[-1] not in ".!?":
            text += "."
        return self.t["quote_praise" if tone > 0 else "quote_critique"].format(text=text)

    def _consistent(self, text: str, tone: int) -> bool:
        """No clause of the quote says the opposite of what it is quoted for."""
        return all(polarity(clause, self.language) * tone >= 0 for clause in clauses(text, self.language))

    def _reads_well(self, text: str) -> bool:
        plain = without_emoji(text)
        tokens = words(plain)
        return (
            4 <= len(tokens) <= QUOTE_MAX_WORDS
            and len(sentences(plain)) == 1
            and PEER_WORD[self.language] not in plain.lower()
            and not _THIRD_PERSON[self.language] & set(tokens)
            and not is_profane(plain, self.language)
            and detect(plain, minimum_words=4) in (self.language, None)
            and not plain.isupper()
            and not re.search(r"[<>{}\[\]|#*_`]", plain)
        )

    def _themes(self, tone: int, focus: list[CriterionScore]) -> list[tuple[Theme, set[int]]]:
        """Themes raised with this tone: (theme, reviewers who raised it).

        Themes raised about the focus criteria (the strongest for praise, the
        weakest for criticism) come first, so the detail explains the score;
        then the ones most reviewers raised.
        """
        focus_ids = {c.criterion_id for c in focus}
        found: dict[str, tuple[Theme, set[int]]] = {}
        mentions: Counter[str] = Counter()
        on_focus: set[str] = set()
        for remark in self.remarks:
            if remark.tone != tone:
                continue
            for theme in remark.themes:
                found.setdefault(theme.key, (theme, set()))[1].add(remark.comment.reviewer)
                mentions[theme.key] += 1
                if remark.comment.criterion_id in focus_ids:
                    on_focus.add(theme.key)
        order = {key: index for index, key in enumerate(found)}
        return sorted(
            found.values(),
            key=lambda item: (item[0].key not in on_focus, -len(item[1]), -mentions[item[0].key], order[item[0].key]),
        )

    # -- reading the comments ------------------------------------------------------------------------

    def _judge(self, comment: Comment) -> list[Remark]:
        fallback = self._score_tone(comment)
        written_in = _written_in(comment.text, self.language)
        remarks = []
        for clause in clauses(comment.text, written_in):
            lexical = polarity(clause, written_in)
            tone = (lexical > 0) - (lexical < 0) or fallback
            remarks.append(Remark(comment, tone, themes_in(clause, written_in)))
        return remarks

    def _comment_tone(self, comment: Comment) -> int:
        """The reviewer's verdict on this criterion: the score when it is clear, else the words."""
        if tone := self._score_tone(comment):
            return tone
        lexical = polarity(comment.text, _written_in(comment.text, self.language))
        return (lexical > 0) - (lexical < 0)

    def _score_tone(self, comment: Comment) -> int:
        if comment.score is None:
            return 0
        low, high = self.scales.get(comment.criterion_id, (1, 5))
        level = (comment.score - low) / (high - low) if high > low else 1.0
        return 1 if level >= 0.7 else -1 if level <= 0.3 else 0

    # -- small helpers -------------------------------------------------------------------------------

    def _fill(self, template: str, criteria: list[CriterionScore]) -> str:
        mean = sum(c.average for c in criteria) / len(criteria)
        return self.t[template].format(
            criteria=self._names(criteria), average=self._number(mean), top=self._number(criteria[0].max_score)
        )

    def _names(self, criteria: list[CriterionScore]) -> str:
        names = [_lower_first(c.name) for c in criteria]
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" {self.t['and']} " + names[-1]

    def _number(self, value: float) -> str:
        text = f"{value:.0f}" if abs(value - round(value)) < 0.05 else f"{value:.1f}"
        return text.replace(".", self.t["decimal"])

    def _mentions_unscored(self, sentence: str) -> bool:
        lowered = sentence.lower()
        return any(re.search(rf"(?<!\w){re.escape(name.lower())}(?!\w)", lowered) for name in self.unscored)


def _settle(praise: list, critique: list) -> tuple[list, list]:
    """A theme praised by some and criticised by others goes where more reviewers put it (criticism on a tie),
    so a summary never says "you coordinate well" and "you rarely coordinate" in one breath."""
    praised = {theme.key: len(found) for theme, found in praise}
    criticised = {theme.key: len(found) for theme, found in critique}
    return (
        [(t, f) for t, f in praise if praised[t.key] > criticised.get(t.key, 0)],
        [(t, f) for t, f in critique if criticised[t.key] >= praised.get(t.key, 0)],
    )


def _written_in(text: str, default: str) -> str:
    """The language of a comment (students in a Dutch class sometimes write English), if we have words for it."""
    found = detect(text, minimum_words=4)
    return found if found in TEXT else default


def _level(criterion: CriterionScore) -> float:
    """Where the average sits on the criterion's scale: 0 at the bottom, 1 at the top."""
    span = criterion.max_score - criterion.min_score
    return (criterion.average - criterion.min_score) / span if span else 1.0


def _lower_first(name: str) -> str:
    return name[0].lower() + name[1:] if len(name) > 1 and name[1].islower() else name


_COMMON = frozenset().union(*FUNCTION_WORDS.values())


def _stems(text: str) -> set[str]:
    # Cutting words to six letters is a crude stemmer that works the same for Dutch and English.
    return {w[:6] for w in words(text) if len(w) > 2 and w not in _COMMON}


def _similarity(a: str, b: str) -> float:
    sa, sb = _stems(a), _stems(b)
    return len(sa & sb) / math.sqrt(len(sa) * len(sb)) if sa and sb else 0.0
