"""The builtin summarizer: deterministic, no network, Dutch or English, anchored in the scores.

It says what the numbers say and lets the comments only support it:

1. the strongest and the weakest criterion (or that the scores lie close
   together), with their averages; how many reviewers there were when it was
   one; a criterion the reviewers scored far apart;
2. for the strongest and the weakest criterion, the most representative
   comment given on that criterion, quoted when it reads well on its own,
   else paraphrased through its themes;
3. one practical tip tied to what the weakest criterion's own comments say.

A comment counts as praise or criticism by the score it was given with (and,
when that score is in the middle, the criterion's average); its words only
decide whether it may serve as evidence: a comment whose words say the
opposite of its score (sarcasm, a slip of the mouse) is not used either way.
Nothing from a comment that tried to give orders is quoted or paraphrased.
Feedback that says little gets a short summary that says so.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass

from peerdigest.domain.received import Comment, CriterionScore, ReceivedFeedback
from peerdigest.summarize import GenerationMethod, Summary
from peerdigest.summarize.injection import screen
from peerdigest.summarize.language import FUNCTION_WORDS, detect, sentences, words
from peerdigest.summarize.sentiment import clauses, is_profane, polarity, without_emoji
from peerdigest.summarize.themes import themes_in

MAX_SENTENCES = 7
QUOTE_MAX_WORDS = 25
LITTLE_FEEDBACK_WORDS = 12  # fewer words than this in all comments together is too little to summarize
BALANCED = 0.5  # averages closer than this are "close together"
WEAKEST_GAP = 0.75  # the lowest average must be this far below the highest to be named as a weakness
SPLIT = 2  # reviewers whose scores for one criterion differ this much disagree about it

TEXT = {
    "nl": {
        "empty": "Je teamgenoten hebben nog geen opmerkingen bij je werk geschreven, dus er is nog niets samen te vatten.",
        "empty_scores": "Je teamgenoten hebben nog geen opmerkingen bij je werk geschreven, alleen scores gegeven.",
        "one_reviewer": "Je kreeg feedback van één teamgenoot, dus lees dit als de blik van één persoon.",
        "little": "Je teamgenoten schreven weinig bij je werk ({count}), dus dit zegt vooral wat de scores laten zien.",
        "comments": ("één korte opmerking", "{n} korte opmerkingen"),
        "strongest": "Het sterkst scoor je op {criteria} (gemiddeld {average} van de {top}).",
        "only": "Voor {criteria} krijg je gemiddeld {average} van de {top}.",
        "balanced": "Je scores liggen dicht bij elkaar, tussen {low} en {high} van de {top}.",
        "range": "Je scores liggen tussen {low} en {high} van de {top}, zonder één duidelijke uitschieter naar boven.",
        "all_high": "Je teamgenoten zijn op elk criterium positief: je scores liggen tussen {low} en {high} van de {top}.",
        "all_low": "Je teamgenoten zijn op elk criterium kritisch: je scores liggen tussen {low} en {high} van de {top}.",
        "same": "Op elk criterium krijg je gemiddeld {high} van de {top}.",
        "weakest": "Het minst sterk scoor je op {criteria} (gemiddeld {average}).",
        "weakest_high": "Relatief het laagst scoor je op {criteria} (gemiddeld {average}), al is dat nog steeds "
                        "voldoende.",
        "quote": "Over {criterion} schreef een teamgenoot: \u201c{text}\u201d",
        "paraphrase_praise": "Over {criterion} noemt een teamgenoot dat {clauses}.",
        "paraphrase_critique": "Over {criterion} geeft een teamgenoot aan dat {clauses}.",
        "split": "Over {criterion} verschillen je teamgenoten van mening: hun scores lopen van {low} tot {high}.",
        "tip": "Een tip voor {criterion}: {tip}",
        # Never "ask the teammates who scored it lower": that would ask the student to unmask their reviewers.
        "tip_ask": "Een tip voor {criterion}: kies één concreet punt dat je de volgende keer anders doet, en vraag "
                   "je groep halverwege of ze het verschil merken.",
        "harsh": "Niet elke opmerking was vriendelijk verwoord; die worden hier niet geciteerd.",
        "self_higher": "Je beoordeelt je eigen werk hoger dan je teamgenoten doen; het kan helpen om samen te "
                       "bespreken waar dat verschil vandaan komt.",
        "self_lower": "Je beoordeelt je eigen werk lager dan je teamgenoten doen: zij zien meer in je bijdrage dan "
                      "jij zelf.",
        "and": "en",
        "both": ("{average} voor beide", "{average} voor elk"),
        "decimal": ",",
        "remark": "Een teamgenoot schreef: \u201c{text}\u201d",
    },
    "en": {
        "empty": "Your teammates have not written any comments about your work yet, so there is nothing to summarize.",
        "empty_scores": "Your teammates have not written any comments about your work yet, only scores.",
        "one_reviewer": "You received feedback from one teammate, so read this as one person's view.",
        "little": "Your teammates wrote little about your work ({count}), so this mostly says what the scores show.",
        "comments": ("one short comment", "{n} short comments"),
        "strongest": "You score highest on {criteria} (an average of {average} out of {top}).",
        "only": "For {criteria} you received an average of {average} out of {top}.",
        "balanced": "Your scores are close together, between {low} and {high} out of {top}.",
        "range": "Your scores lie between {low} and {high} out of {top}, with no single criterion standing out at "
                 "the top.",
        "all_high": "Your teammates are positive on every criterion: your scores lie between {low} and {high} out "
                    "of {top}.",
        "all_low": "Your teammates are critical on every criterion: your scores lie between {low} and {high} out "
                   "of {top}.",
        "same": "On every criterion you received an average of {high} out of {top}.",
        "weakest": "You score lowest on {criteria} (an average of {average}).",
        "weakest_high": "Relatively, you score lowest on {criteria} (an average of {average}), though that is still "
                        "a good score.",
        "quote": "About {criterion}, one teammate wrote: \u201c{text}\u201d",
        "paraphrase_praise": "About {criterion}, one teammate mentions that {clauses}.",
        "paraphrase_critique": "About {criterion}, one teammate points out that {clauses}.",
        "split": "Your teammates disagree about {criterion}: their scores range from {low} to {high}.",
        "tip": "A tip for {criterion}: {tip}",
        "tip_ask": "A tip for {criterion}: choose one concrete thing you will do differently next time, and ask "
                   "your group halfway through whether they notice the difference.",
        "harsh": "Not every comment was worded kindly; those are not quoted here.",
        "self_higher": "You rate your own work higher than your teammates do; it can help to talk together about where "
                       "that difference comes from.",
        "self_lower": "You rate your own work lower than your teammates do: they see more in your contribution than "
                      "you do yourself.",
        "and": "and",
        "both": ("{average} each", "{average} each"),
        "decimal": ".",
        "remark": "One teammate wrote: \u201c{text}\u201d",
    },
}
# Signs that the words of a comment mean the opposite of what they say: such a comment is never quoted.
_SARCASM = re.compile(
    r"🙄|😒|🤡|🙃|😏|\bja hoor\b|\bjaja\b|\bnou nou\b|\btuurlijk\b|\bvast wel\b|\byeah right\b|\bsure,|\bas if\b|"
    r"\bwow,|\bgreat,|\bsuper,|/s\b|\blekker dan\b|\bknap hoor\b",
    re.I,
)
_MARKUP = re.compile(r"[<>{}\[\]|#*_`]")
_COMMON = frozenset().union(*FUNCTION_WORDS.values())


@dataclass(frozen=True)
class Evidence:
    """A comment and what it says about its criterion: praise (+1) or criticism (-1), by its score."""

    comment: Comment
    tone: int


class BuiltinSummarizer:
    generation_method = GenerationMethod.builtin

    def summarize(self, feedback: ReceivedFeedback, *, final_attempt: bool = True) -> Summary:
        started = time.monotonic()
        screened = screen(feedback)
        text = " ".join(_Writer(screened.feedback, screened.trusted(), withheld=bool(screened.withheld)).sentences())
        generation_method = GenerationMethod.empty if not screened.feedback.comments else self.generation_method
        duration_ms = int((time.monotonic() - started) * 1000)
        return Summary(summary_text=text, generation_method=generation_method, duration_ms=duration_ms)


class _Writer:
    def __init__(self, feedback: ReceivedFeedback, trusted: ReceivedFeedback, withheld: bool = False):
        self.feedback = feedback
        self.withheld = withheld  # a comment was left for the teacher to read (an insult, a threat)
        self.language = feedback.language if feedback.language in TEXT else "en"
        self.t = TEXT[self.language]
        self.scored = sorted(feedback.scored_criteria, key=lambda c: c.average, reverse=True)
        self.by_id = {c.criterion_id: c for c in feedback.criteria}
        # Only comments that gave no orders may be evidence: their words end up in the summary.
        self.trusted = trusted.comments
        self.evidence = [e for c in trusted.comments if (e := self._evidence(c)) is not None]
        self.quoted: set[Comment] = set()  # the comments passed on, quoted or paraphrased

    # -- the text ------------------------------------------------------------------------------------

    def sentences(self) -> list[str]:
        if not self.feedback.comments:
            first = self.t["empty_scores"] if self.scored else self.t["empty"]
            return [s for s in (first, self._strength(), self._weakness()) if s]
        bottom = self._bottom()
        # Balanced scores still get their best praise and, when the lowest is middling, its critique.
        praised = self._top() or self.scored
        criticised = bottom or [c for c in self.scored[-1:] if _level(c) < 0.6]
        praise, critique = self._support(praised, +1), self._support(criticised, -1)
        plan = [
            self._context(),
            self._strength(),
            praise,
            self._weakness(),
            critique,
            self._split(),
            None if praise or critique else self._remark(),
            self._tip(criticised),
            # How the student's self-rating compares (docs/INSIGHTS.md): said kindly, never as a label.
            self.t[f"self_{self.feedback.self_view}"] if self.feedback.self_view else None,
            self.t["harsh"]
            if self.withheld or any(is_profane(c.text, self.language) for c in self.feedback.comments)
            else None,
        ]
        chosen = [s for s in plan if s]
        # Over the limit, the least necessary go first: the note on harsh words, the disagreement, the self-view.
        for optional in (plan[9], plan[5], plan[8]):
            if len(chosen) > MAX_SENTENCES and optional in chosen:
                chosen.remove(optional)
        return chosen[:MAX_SENTENCES]

    def _context(self) -> str | None:
        if self.feedback.reviewer_count == 1:
            return self.t["one_reviewer"]
        said = sum(len(words(c.text)) for c in self.feedback.comments)
        if said < LITTLE_FEEDBACK_WORDS:
            count = len(self.feedback.comments)
            one, many = self.t["comments"]
            return self.t["little"].format(count=one if count == 1 else many.format(n=count))
        return None

    def _strength(self) -> str | None:
        if not self.scored:
            return None
        top_score = self._number(self.scored[0].max_score)
        if len(self.scored) == 1:
            return self._fill("only", [self.scored[0]])
        high, low = self.scored[0].average, self.scored[-1].average
        if high - low < BALANCED or not self._top():
            levels = [_level(c) for c in self.scored]
            template = (
                "same" if high - low < 0.05
                else "all_high" if min(levels) >= 0.7 else "all_low" if max(levels) <= 0.4
                else "balanced" if high - low < BALANCED else "range"
            )
            return self.t[template].format(low=self._number(low), high=self._number(high), top=top_score)
        return self._fill("strongest", self._top())

    def _weakness(self) -> str | None:
        bottom = self._bottom()
        if not bottom:
            return None
        return self._fill("weakest_high" if all(_level(c) >= 0.65 for c in bottom) else "weakest", bottom)

    def _top(self) -> list[CriterionScore]:
        """The highest one or two criteria, when they stand out."""
        if len(self.scored) < 2 or self.scored[0].average - self.scored[-1].average < BALANCED:
            return []
        top = [c for c in self.scored if self.scored[0].average - c.average <= 0.25]
        return top if len(top) <= 2 else []

    def _bottom(self) -> list[CriterionScore]:
        """The lowest criteria (all that tie), when the spread warrants naming them."""
        if len(self.scored) < 2 or self.scored[0].average - self.scored[-1].average < WEAKEST_GAP:
            return []
        return [c for c in self.scored if c.average - self.scored[-1].average <= 0.25]

    def _support(self, focus: list[CriterionScore], tone: int) -> str | None:
        """The most representative comment of this tone on the focus criteria: quoted, or paraphrased."""
        ids = {c.criterion_id for c in focus}
        group = [e.comment for e in self.evidence if e.tone == tone and e.comment.criterion_id in ids]
        if not group:
            return None
        ranked = sorted(group, key=lambda c: self._representative(c, group), reverse=True)
        for comment in ranked:
            if self._reads_well(comment.text) and self._consistent(comment.text, tone):
                # The criterion named is the quoted comment's own, whichever of the focus criteria that is.
                criterion = _lower_first(self.by_id[comment.criterion_id].name)
                self.quoted.add(comment)
                return self.t["quote"].format(criterion=criterion, text=_sentence(comment.text))
        for comment in ranked:
            if found := themes_in(comment.text, self.language):
                wording = found[0].wording[self.language]
                key = "paraphrase_praise" if tone > 0 else "paraphrase_critique"
                name = _lower_first(self.by_id[comment.criterion_id].name)
                self.quoted.add(comment)
                return self.t[key].format(criterion=name, clauses=wording.praise if tone > 0 else wording.critique)
        return None

    def _remark(self) -> str | None:
        """The most concrete remark (the most telling words) when nothing else of the comments was passed on:
        a summary of scores alone would drop what a teammate took the trouble to write."""
        candidates = [c for c in self.trusted if c not in self.quoted and self._reads_well(c.text)]
        if not candidates:
            return None
        concrete = max(candidates, key=lambda c: (len(_stems(c.text)), -len(c.text)))
        return self.t["remark"].format(text=_sentence(concrete.text))

    def _representative(self, comment: Comment, group: list[Comment]) -> tuple[float, float, int]:
        """Most like the others of its group, then the score nearest the criterion's average, then shortest."""
        criterion = self.by_id[comment.criterion_id]
        alike = sum(_similarity(comment.text, other.text) for other in group if other is not comment)
        distance = abs((comment.score or criterion.average or 0) - (criterion.average or 0))
        return (alike, -distance, -len(comment.text))

    def _split(self) -> str | None:
        """A criterion the reviewers scored far apart (by the scores they gave with a comment)."""
        for criterion in self.scored:
            given = [c.score for c in self.feedback.comments if c.criterion_id == criterion.criterion_id and
                     c.score is not None]
            if given and max(given) - min(given) >= SPLIT:
                low, high = self._number(min(given)), self._number(max(given))
                return self.t["split"].format(criterion=_lower_first(criterion.name), low=low, high=high)
        return None

    def _tip(self, bottom: list[CriterionScore]) -> str | None:
        """One practical tip for the weakest criterion, from what its own critical comments are about."""
        if not bottom or all(_level(c) >= 0.65 for c in bottom):
            return None
        ids = {c.criterion_id for c in bottom}
        critical = [e.comment for e in self.evidence if e.tone < 0 and e.comment.criterion_id in ids]
        for comment in critical:
            if found := themes_in(comment.text, self.language):
                name = _lower_first(self.by_id[comment.criterion_id].name)
                return self.t["tip"].format(criterion=name, tip=found[0].wording[self.language].tip)
        if not critical and not self._bottom():
            return None  # a middling criterion nobody criticised needs no tip
        return self.t["tip_ask"].format(criterion=_lower_first(bottom[0].name))

    # -- reading the comments ------------------------------------------------------------------------

    def _evidence(self, comment: Comment) -> Evidence | None:
        """What the comment says by its score; None when the score says nothing or the words contradict it."""
        criterion = self.by_id.get(comment.criterion_id)
        if criterion is None or criterion.average is None:
            return None
        score = comment.score if comment.score is not None else criterion.average
        level = (score - criterion.min_score) / (criterion.max_score - criterion.min_score or 1)
        tone = 1 if level >= 0.7 else -1 if level <= 0.4 else 0
        if tone == 0 and score < criterion.average - 0.5:
            tone = -1  # a middling score below what the others gave is the critical one of the group
        if tone == 0:
            return None
        language = _written_in(comment.text, self.language)
        said = [polarity(clause, language) for clause in clauses(comment.text, language)]
        agrees = any(p * tone > 0 for p in said)
        # Words and score disagree (sarcasm, a slip of the mouse): no evidence either way.
        if (not agrees and any(p * tone < 0 for p in said)) or (tone > 0 and _SARCASM.search(comment.text)):
            return None
        return Evidence(comment, tone)

    def _consistent(self, text: str, tone: int) -> bool:
        """No clause of a quote says the opposite of what it is quoted for ("good, but late" is no praise)."""
        language = _written_in(text, self.language)
        return all(polarity(clause, language) * tone >= 0 for clause in clauses(text, language))

    def _reads_well(self, text: str) -> bool:
        plain = without_emoji(text)
        tokens = words(plain)
        return (
            3 <= len(tokens) <= QUOTE_MAX_WORDS
            and len(sentences(plain)) <= 2
            and not is_profane(plain, self.language)
            and not _SARCASM.search(text)
            and detect(plain, minimum_words=4) in (self.language, None)
            and not plain.isupper()
            and not _MARKUP.search(plain)
        )

    # -- small helpers -------------------------------------------------------------------------------

    def _fill(self, template: str, criteria: list[CriterionScore]) -> str:
        """The sentence about one criterion, or about several that (nearly) tie: each with its own average,
        never their mean, which would be no criterion's score."""
        averages = [self._number(c.average) for c in criteria]
        if len(set(averages)) == 1:
            two, more = self.t["both"]
            average = averages[0] if len(averages) == 1 else (two if len(averages) == 2 else more).format(
                average=averages[0])
        else:
            average = ", ".join(averages[:-1]) + f" {self.t['and']} " + averages[-1]
        return self.t[template].format(
            criteria=self._names(criteria), average=average, top=self._number(criteria[0].max_score)
        )

    def _names(self, criteria: list[CriterionScore]) -> str:
        names = [_lower_first(c.name) for c in criteria]
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" {self.t['and']} " + names[-1]

    def _number(self, value: float) -> str:
        text = f"{value:.0f}" if abs(value - round(value)) < 0.05 else f"{value:.1f}"
        return text.replace(".", self.t["decimal"])


def _sentence(text: str) -> str:
    plain = without_emoji(text).strip()
    return plain if plain[-1] in ".!?" else plain + "."


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


def _stems(text: str) -> set[str]:
    # Cutting words to six letters is a crude stemmer that works the same for Dutch and English.
    return {w[:6] for w in words(text) if len(w) > 2 and w not in _COMMON}


def _similarity(a: str, b: str) -> float:
    sa, sb = _stems(a), _stems(b)
    return len(sa & sb) / math.sqrt(len(sa) * len(sb)) if sa and sb else 0.0
