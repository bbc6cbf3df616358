"""The quality corpus (tests/data/quality_corpus): students whose feedback tests what a summary must get right.

Each language file holds one class (eight teams of four, with nicknames and
names that are ordinary words), the criteria, and hand-written comments per
criterion and tone, plus sarcasm, comments whose words contradict their score,
injections phrased as ordinary sentences and next-to-nothing comments. A
student's feedback is put together from these deterministically by a profile
(typical, all high, all low, balanced, split reviewers, sarcasm, contradicting
words, injection, a single reviewer, little feedback, an unscored criterion, no
comments), so the set is the same on every run and the expected answer is
known: the clearly weakest criterion, what must never appear.

Used by tests/quality and by `make bench` (bench/quality.py); it builds
`ReceivedFeedback` directly, anonymized the way a worker does, with no
database, so the whole corpus takes milliseconds to build.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from peerdigest.domain.feedback import anonymize
from peerdigest.domain.received import Comment, CriterionScore, ReceivedFeedback

PROFILES = (
    "typical", "all_high", "split", "sarcasm", "all_low", "injection", "contradicting_words", "single_reviewer",
    "balanced", "little", "typical", "unscored", "injection", "no_comments", "sarcasm", "contradicting_words",
)
WEAKEST_GAP = 0.75
_PARTICLES = {"van", "de", "der", "den", "het", "ten", "ter", "te", "el"}


@dataclass(frozen=True)
class Member:
    name: str
    nicknames: tuple[str, ...]

    @property
    def first(self) -> str:
        return self.name.split()[0]


@dataclass(frozen=True)
class Student:
    """One student of the corpus: what they received and what a summary of it must (not) say."""

    key: str  # "nl-07": language and index
    profile: str
    feedback: ReceivedFeedback  # anonymized, as a worker hands it to a summarizer
    members: tuple[Member, ...]  # everyone in the class, with the nicknames used in comments
    weakest: str | None  # the criterion at least WEAKEST_GAP below every other one, if there is one
    unscored: tuple[str, ...]
    payloads: tuple[str, ...]  # what an injection in this student's comments asked to be written
    trap: str | None  # a sarcastic comment, or one whose words contradict its score: never to be quoted


def load(folder: Path) -> list[Student]:
    """Every student of every language file in `folder`, in a stable order."""
    return [student for path in sorted(folder.glob("*.json")) for student in _students(json.loads(path.read_text("utf-8")))]


def _students(data: dict) -> list[Student]:
    language = data["language"]
    members = tuple(Member(m["name"], tuple(m["nicknames"])) for team in data["teams"] for m in team)
    roster = tuple(m.name for m in members)
    found = []
    for team_index, team in enumerate(data["teams"]):
        for position in range(len(team)):
            index = team_index * len(team) + position
            reviewee = members[index]
            mates = [members[team_index * len(team) + p] for p in range(len(team)) if p != position]
            found.append(_student(data, language, index, reviewee, mates, members, roster))
    return found


def _student(data, language, index, reviewee: Member, mates, members, roster) -> Student:
    profile = PROFILES[index % len(PROFILES)]
    names = data["criteria"]
    main, extra = names[:4], names[4]
    special = _special(data, profile, index)
    weak = main.index(special["criterion"]) if special and special["criterion"] in main else index % 4
    strong = (weak + 1 + index % 3) % 4
    reviewers = mates[:1] if profile == "single_reviewer" else mates
    scores = {name: [_score(profile, k, weak, strong, r) for r in range(len(reviewers))] for k, name in enumerate(main)}
    scores[extra] = [None] * len(reviewers) if profile == "unscored" else [4, 3, 4][: len(reviewers)]
    comments: list[Comment] = []
    payloads: tuple[str, ...] = ()
    trap = None
    if profile != "no_comments":
        for r, mate in enumerate(reviewers):
            for k, name in enumerate(names):
                if k == weak and r == 0 or (r + k + index) % 2 == 0 or (k == 4 and profile == "unscored" and r == 0):
                    score = scores[name][r]
                    text = _pick(data["comments"][name][_tone(score)], index * 7 + r * 3 + k)
                    comments.append(Comment(k + 1, name, _fill(text, reviewee, mate, index + r + k), score, r + 1))
        if profile == "little":
            score = scores[main[strong]][0]
            comments = [Comment(strong + 1, main[strong], _pick(data["little"], index), score, 1)]
        elif special:
            criterion = special["criterion"]
            k = names.index(criterion)
            r = len(reviewers) - 1
            score = special.get("score", 3)
            scores[criterion][r] = score
            text = _fill(special["text"], reviewee, reviewers[r], index)
            comments = [c for c in comments if not (c.reviewer == r + 1 and c.criterion_id == k + 1)]
            comments.append(Comment(k + 1, criterion, text, score, r + 1))
            payloads = tuple(special.get("payload", ()))
            trap = None if payloads else text
    criteria = tuple(
        CriterionScore(k + 1, name, _average(scores[name]), sum(v is not None for v in scores[name]), 1, 5)
        for k, name in enumerate(names)
    )
    received = ReceivedFeedback(
        evaluation_id=1 if language == "nl" else 2, student_id=index + 1, student_name=reviewee.name,
        language=language, criteria=criteria, comments=tuple(sorted(comments, key=lambda c: (c.reviewer, c.criterion_id))),
        roster=roster, reviewer_count=len(reviewers),
    )
    scored = sorted((c for c in criteria if c.average is not None), key=lambda c: c.average)
    weakest = scored[0].name if len(scored) >= 2 and scored[0].average <= scored[1].average - WEAKEST_GAP else None
    return Student(
        key=f"{language}-{index + 1:02d}", profile=profile, feedback=anonymize(received), members=members,
        weakest=weakest, unscored=tuple(c.name for c in criteria if c.average is None), payloads=payloads, trap=trap,
    )


def _special(data: dict, profile: str, index: int) -> dict | None:
    pool = {"sarcasm": "sarcasm", "contradicting_words": "disagree", "injection": "injections"}.get(profile)
    return _pick(data[pool], index) if pool else None


def _score(profile: str, k: int, weak: int, strong: int, r: int) -> int:
    """The score reviewer `r` gave criterion `k` for this profile (1-5)."""
    if profile == "all_high":
        return [5, 4, 5][r] if k != weak else [4, 4, 5][r]
    if profile == "all_low":
        return [2, 1, 2][r]
    if profile == "balanced":
        return [[4, 3, 4], [3, 4, 4], [4, 4, 3], [3, 4, 3]][k][r]
    if profile == "split" and k == strong:
        return [5, 1, 4][r]
    if k == weak:
        return [2, 2, 1][r]
    if k == strong:
        return [5, 4, 5][r]
    return [4, 3, 4][r] if k % 2 else [4, 4, 3][r]


def _tone(score: int | None) -> str:
    return "mid" if score is None or score == 3 else "high" if score >= 4 else "low"


def _pick(pool: list, seed: int):
    return pool[seed % len(pool)]


def _fill(text: str, reviewee: Member, mate: Member, seed: int) -> str:
    """Put a name in the comment the way students write it: first name, lower case, a nickname, the full name."""
    forms = [reviewee.first, reviewee.first.lower(), *reviewee.nicknames, reviewee.name, *_misspelt(reviewee.first)]
    mate_forms = [mate.first, *mate.nicknames]
    return text.replace("{name}", _pick(forms, seed)).replace("{mate}", _pick(mate_forms, seed))


def _misspelt(first: str) -> list[str]:
    """The name one letter off, as students type it: a doubled letter single ("Mohammed" as "Mohamed"), else
    a letter doubled ("Jonathan" as "Jonnathan"); none for names under five letters, which are often words
    too ("Noor", "Roos": the unit tests of `names` cover the four-letter ones that are not)."""
    if len(first) < 5:
        return []
    for i in range(1, len(first)):
        if first[i] == first[i - 1]:
            return [first[:i] + first[i + 1:]]
    return [first[:2] + first[2] + first[2:]]


def _average(values: list[int | None]) -> float | None:
    given = [v for v in values if v is not None]
    return round(sum(given) / len(given), 2) if given else None


def name_forms(members: tuple[Member, ...]) -> set[str]:
    """Every name part and nickname of the class (particles left out), as the corpus wrote them."""
    forms = set()
    for member in members:
        forms.update(p for p in member.name.replace("-", " ").split() if p.lower() not in _PARTICLES)
        forms.update(member.nicknames)
        forms.update(_misspelt(member.first))
    return forms
