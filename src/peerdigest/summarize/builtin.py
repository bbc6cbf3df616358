"""The builtin summarizer: deterministic, no network, Dutch or English."""

from __future__ import annotations

import time

from peerdigest.feedback import ReceivedFeedback
from peerdigest.summarize import Summary

TEXT = {
    "nl": {
        "empty": "Je teamgenoten hebben (nog) geen opmerkingen over je werk gegeven, dus er is nog niets samen te vatten.",
        "strong": "Je teamgenoten waarderen vooral je {criteria}.",
        "weak": "Een punt om aan te werken is {criterion}.",
        "quote_good": "Zo schreef een teamgenoot: \u201c{text}\u201d",
        "quote_tip": "Een teamgenoot gaf als tip: \u201c{text}\u201d",
        "balanced": "Je scores liggen dicht bij elkaar; je teamgenoten zien je als een evenwichtig teamlid.",
        "and": "en",
    },
    "en": {
        "empty": "Your teammates have not written any comments about your work yet, so there is nothing to summarize.",
        "strong": "Your teammates especially value your {criteria}.",
        "weak": "One point to work on is {criterion}.",
        "quote_good": "As one teammate put it: \u201c{text}\u201d",
        "quote_tip": "One teammate suggested: \u201c{text}\u201d",
        "balanced": "Your scores are close together; your teammates see you as a well-rounded team member.",
        "and": "and",
    },
}


def _join(words: list[str], conjunction: str) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + f" {conjunction} " + words[-1]


class BuiltinSummarizer:
    method = "builtin"

    def summarize(self, feedback: ReceivedFeedback, *, final_attempt: bool = True) -> Summary:
        started = time.monotonic()
        text = self.write(feedback)
        method = "empty" if not feedback.comments else self.method
        return Summary(text=text, method=method, duration_ms=int((time.monotonic() - started) * 1000))

    def write(self, feedback: ReceivedFeedback) -> str:
        words = TEXT.get(feedback.language, TEXT["en"])
        if not feedback.comments:
            return words["empty"]
        scored = sorted(feedback.scored_criteria, key=lambda c: c.average, reverse=True)
        sentences: list[str] = []
        if scored:
            spread = scored[0].average - scored[-1].average
            if spread < 0.5 and len(scored) > 1:
                sentences.append(words["balanced"])
            else:
                sentences.append(words["strong"].format(criteria=_join([c.name.lower() for c in scored[:2]], words["and"])))
                if len(scored) > 1:
                    sentences.append(words["weak"].format(criterion=scored[-1].name.lower()))
        ranked = sorted(feedback.comments, key=lambda c: (c.score is None, -(c.score or 0)))
        sentences.append(words["quote_good"].format(text=ranked[0].text.rstrip(".")))
        if len(ranked) > 1 and ranked[-1] is not ranked[0]:
            sentences.append(words["quote_tip"].format(text=ranked[-1].text.rstrip(".")))
        return " ".join(sentences[:7])
