"""What a class's numbers say beyond the summary: contribution factors, team reliability, labels.

The ideas come from the peer-assessment practice teachers know from CATME-style
tools: a student's average peer rating against the team's average (the
*factor* used to adjust a group grade), how a self-rating compares with what
peers gave, and a few patterns worth a conversation. Every formula and
threshold is in docs/INSIGHTS.md; the thresholds are settings (`INSIGHTS_*`).

`analyse` is pure: it takes a `RatingSheet` (plain data) and returns numbers,
so it is recomputed on every read and can never be out of date with the scores.
`rating_sheet` reads that sheet from the database. Nothing here calls an LLM.

Two kinds of numbers are used on purpose:
- the factor is a ratio of raw averages (as the tools teachers know compute it),
  so multiplying every score by a constant changes no factor;
- every "far above / far below" test works on ratings rescaled to the
  criterion's range (0 = its minimum, 1 = its maximum), so a threshold of 0.2
  means "a fifth of the scale" whether the scale is 1–5 or 1–10.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from itertools import combinations
from statistics import fmean, pstdev

from sqlalchemy import select
from sqlalchemy.orm import Session

from peerdigest import i18n
from peerdigest.config import Settings
from peerdigest.db.models import Allocation, Criterion, Score, User
from peerdigest.i18n import N_, _

# A bipartition search over every split of a team; beyond this size a team is not searched for cliques
# (2^(n-1) splits: 1,024 at 11 members), which no peer-evaluation team reaches in practice.
CLIQUE_MAX_TEAM = 11


@dataclass(frozen=True)
class Rules:
    """The thresholds of the labels and verdicts (settings `INSIGHTS_*`, documented in docs/INSIGHTS.md).

    Gaps are shares of the scale (0.2 = a fifth of it), so they mean the same on any scale.
    """

    factor_cap: float  # factors are capped here (institutions choose 1.05 or 1.10)
    performer_margin: float  # high/low performer: uncapped factor at least this far from 1
    confidence_gap: float  # over/underconfident: self-rating this far from peers
    manipulator_gap: float  # manipulator: self this far above, each teammate this far below
    conflict_gap: float  # conflict: one reviewer this far below the others and their own habit
    clique_gap: float  # clique: within-group ratings this far above between-group ratings
    min_reviews: int  # reliability: fewer submitted reviewers than this is unreliable
    spread_max: float  # reliability: reviewers disagreeing more than this

    @classmethod
    def from_settings(cls, settings: Settings) -> Rules:
        return cls(**{name: getattr(settings, f"insights_{name}") for name in cls.__dataclass_fields__})


@dataclass(frozen=True)
class CriterionInfo:
    id: int
    name: str
    min_score: float
    max_score: float

    def rescale(self, value: float) -> float:
        return share_of_scale(value, self.min_score, self.max_score)


def share_of_scale(value: float, minimum: float, maximum: float) -> float:
    """Where `value` lies on its scale: 0 at the minimum, 1 at the maximum."""
    return (value - minimum) / (maximum - minimum) if maximum > minimum else 0.0


@dataclass(frozen=True)
class Rating:
    """What one reviewer gave one reviewee: a value per criterion (criteria left empty are absent)."""

    reviewer_id: int
    reviewee_id: int
    values: dict[int, float]


@dataclass(frozen=True)
class RatingSheet:
    """Everything `analyse` needs: who is in which team, the criteria, and every rating given."""

    criteria: tuple[CriterionInfo, ...]
    names: dict[int, str]  # member id → name (teachers see names; students never see insights)
    teams: dict[int, str]  # member id → team name
    ratings: tuple[Rating, ...]


@dataclass(frozen=True)
class LabelText:
    """A label as a teacher reads it: its name and what it means in one line (marked; translated where shown)."""

    name: str
    explanation: str


# Every label in the order pages list them; the name and explanation are shown on the page beside the numbers.
LABELS: dict[str, LabelText] = {
    "did_not_submit": LabelText(
        N_("did not submit"), N_("Rated none of their teammates, so the team misses their view.")
    ),
    "high_performer": LabelText(N_("high performer"), N_("Peers rate this student well above the team's average.")),
    "low_performer": LabelText(N_("low performer"), N_("Peers rate this student well below the team's average.")),
    "overconfident": LabelText(N_("overconfident"), N_("Rates their own work clearly higher than their peers do.")),
    "underconfident": LabelText(N_("underconfident"), N_("Rates their own work clearly lower than their peers do.")),
    "manipulator": LabelText(
        N_("manipulator"), N_("Rates themself high and every teammate clearly lower than the others rate them.")
    ),
    "conflict": LabelText(N_("conflict"), N_("One teammate rates this student far lower than the others do.")),
    "clique": LabelText(N_("clique"), N_("The team splits into two groups that rate their own group far higher.")),
}


@dataclass(frozen=True)
class Label:
    code: str  # high_performer, low_performer, overconfident, underconfident, manipulator, conflict, clique, did_not_submit
    reason: str  # one sentence with the numbers, for a teacher's tooltip (English: the API's; pages use `said`)
    numbers: dict[str, float | int | str | list[str]]

    def said(self) -> str:
        """The reason in the current language."""
        return describe(self.code, self.numbers)


def describe(code: str, numbers: dict) -> str:
    """The one sentence with the numbers behind a label, in the current language."""
    n, share = i18n.format_number, i18n.format_percent
    if code == "did_not_submit":
        return _("Rated none of %(teammates)s teammates.", teammates=numbers["teammates"])
    if code in ("high_performer", "low_performer"):
        return _("Peers rate this student %(factor)s times the team average.", factor=n(numbers["factor"]))
    if code == "overconfident":
        return _("Self-rating is %(gap)s of the scale above what peers gave.", gap=share(numbers["gap"]))
    if code == "underconfident":
        return _("Self-rating is %(gap)s of the scale below what peers gave.", gap=share(-numbers["gap"]))
    if code == "manipulator" and numbers.get("at_floor"):
        return _(
            "Rates each of %(teammates)s teammates at the bottom of the scale and themself %(self)s of it, "
            "%(gap)s above what peers give them.",
            teammates=numbers["teammates_rated_lower"], self=share(numbers["self"]), gap=share(numbers["above_peers"]),
        )
    if code == "manipulator":
        return _(
            "Rates themself %(self)s of the scale and each of %(teammates)s teammates at least %(gap)s below "
            "what the others give them.",
            self=share(numbers["self"]), teammates=numbers["teammates_rated_lower"], gap=share(numbers["smallest_gap"]),
        )
    if code == "conflict":
        return _("%(reviewer)s rates this student %(gap)s of the scale below the other reviewers.",
                 reviewer=numbers["reviewer"], gap=share(numbers["others"] - numbers["rating"]))
    if code == "clique":
        return _("The team splits in two groups that rate each other %(within)s of the scale within and "
                 "%(between)s between.", within=share(numbers["within"]), between=share(numbers["between"]))
    raise ValueError(f"no such label: {code}")


def _label(code: str, numbers: dict) -> Label:
    with i18n.use_language(i18n.SOURCE_LANGUAGE):
        return Label(code, describe(code, numbers), numbers)


@dataclass(frozen=True)
class StudentInsight:
    student_id: int
    name: str
    team: str
    peer_average: float | None  # mean of the raw scores peers gave (self excluded)
    criteria: dict[str, float | None]  # criterion name → peer average
    self_rating: float | None
    factor: float | None  # peer average / team's average of peer averages, capped
    factor_with_self: float | None  # the same with the self-rating counted as one more rating, capped
    uncapped_factor: float | None
    rank: int | None  # 1 = highest peer average in the team
    reviews_received: int
    reviews_given: int
    labels: tuple[Label, ...]


@dataclass(frozen=True)
class TeamInsight:
    name: str
    members: tuple[int, ...]
    average: float | None  # mean of the members' peer averages
    spread: float | None  # mean disagreement between reviewers of the same student, in points
    submitted: int  # members who rated at least one teammate
    expected: int  # members
    reliable: bool
    reasons: tuple[str, ...]  # why not reliable, in English (the API's; pages use `Insights.reasons`); empty when reliable
    disagreement: float | None  # mean disagreement between reviewers of the same student, as a share of the scale
    matrix: dict[int, dict[int, float]]  # reviewer → reviewee → raw average given (self included)


@dataclass(frozen=True)
class Insights:
    students: tuple[StudentInsight, ...]
    teams: tuple[TeamInsight, ...]
    rules: Rules

    def student(self, student_id: int) -> StudentInsight | None:
        return self._by_id.get(student_id)

    @cached_property
    def _by_id(self) -> dict[int, StudentInsight]:
        # An export asks for every student: a scan each time was quadratic in the class's size.
        return {s.student_id: s for s in self.students}

    def reasons(self, team: TeamInsight) -> list[str]:
        """Why the team's numbers are not reliable, in the current language."""
        return team_reasons(team.submitted, team.expected, team.disagreement, self.rules)


def analyse(sheet: RatingSheet, rules: Rules) -> Insights:
    """Every student's factor and labels and every team's reliability, from the ratings alone."""
    criteria = {c.id: c for c in sheet.criteria}
    raw: dict[tuple[int, int], float] = {}  # (reviewer, reviewee) → mean raw value given
    scaled: dict[tuple[int, int], float] = {}  # the same, rescaled to 0..1
    per_criterion: dict[tuple[int, int], dict[int, float]] = {}
    for rating in sheet.ratings:
        values = {cid: v for cid, v in rating.values.items() if cid in criteria}
        if not values:
            continue  # an empty review is no review: it must change nothing
        key = (rating.reviewer_id, rating.reviewee_id)
        raw[key] = fmean(values.values())
        scaled[key] = fmean(criteria[cid].rescale(v) for cid, v in values.items())
        per_criterion[key] = values

    team_members: dict[str, list[int]] = defaultdict(list)
    for member in sorted(sheet.teams):
        team_members[sheet.teams[member]].append(member)
    # Each pair goes to its team in one pass: filtering every pair for every team was quadratic,
    # minutes for an evaluation of thousands of small teams.
    team_raw: dict[str, dict[tuple[int, int], float]] = defaultdict(dict)
    team_scaled: dict[str, dict[tuple[int, int], float]] = defaultdict(dict)
    for key, value in raw.items():
        team_name = sheet.teams.get(key[0])
        if team_name is not None and team_name == sheet.teams.get(key[1]):
            team_raw[team_name][key], team_scaled[team_name][key] = value, scaled[key]

    students: list[StudentInsight] = []
    teams: list[TeamInsight] = []
    for team_name in sorted(team_members):
        members = team_members[team_name]
        team = _Team(members, team_raw[team_name], team_scaled[team_name])
        cliques = _clique(team, rules)
        # As CATME does: a manipulator's ratings of others count in nobody's factor, so rating every teammate
        # down lifts no one (and pushing the honest ones down cannot lift the manipulator's own factor).
        manipulators = {m for m in members if _manipulation(m, team, team.rated_by(m), rules) is not None}
        counted = team.without_ratings_by(manipulators)
        peer_avgs = {m: counted.peer_average(m) for m in members}
        team_avg = _mean([v for v in peer_avgs.values() if v is not None])
        with_self = {m: counted.average_with_self(m) for m in members}
        team_avg_self = _mean([v for v in with_self.values() if v is not None])
        ranks = _ranks(peer_avgs)
        for member in members:
            uncapped = _ratio(peer_avgs[member], team_avg)
            labels = _labels(member, team, sheet.names, uncapped, cliques, rules, counted)
            students.append(
                StudentInsight(
                    student_id=member,
                    name=sheet.names.get(member, str(member)),
                    team=team_name,
                    peer_average=_round(peer_avgs[member]),
                    criteria={
                        c.name: _round(_mean([per_criterion[(r, member)][c.id] for r in counted.peer_reviewers(member)
                                              if c.id in per_criterion[(r, member)]]))
                        for c in sheet.criteria
                    },
                    self_rating=_round(raw.get((member, member))),
                    factor=_round(_cap(uncapped, rules)),
                    factor_with_self=_round(_cap(_ratio(with_self[member], team_avg_self), rules)),
                    uncapped_factor=_round(uncapped),
                    rank=ranks.get(member),
                    reviews_received=len(counted.peer_reviewers(member)),
                    reviews_given=len(team.rated_by(member)),
                    labels=tuple(labels),
                )
            )
        teams.append(_team_insight(team_name, team, team_avg, sheet.criteria, rules))
    return Insights(students=tuple(students), teams=tuple(teams), rules=rules)


class _Team:
    """The ratings between the members of one team (ratings across teams are not compared)."""

    def __init__(self, members: list[int], raw: dict, scaled: dict):
        """`raw` and `scaled`: the ratings between members only, (reviewer, reviewee) → value."""
        self.members, self.raw, self.scaled = members, raw, scaled
        # Who rated whom, indexed once: asked per member and criterion, a scan of all pairs each time was cubic.
        self.received: dict[int, list[int]] = defaultdict(list)  # reviewee → reviewers, self included
        self.given: dict[int, list[int]] = defaultdict(list)  # reviewer → reviewees, self excluded
        for reviewer, reviewee in raw:
            self.received[reviewee].append(reviewer)
            if reviewer != reviewee:
                self.given[reviewer].append(reviewee)

    def without_ratings_by(self, reviewers: set[int]) -> _Team:
        """The team with what `reviewers` gave others left out (their self-ratings stay)."""
        if not reviewers:
            return self
        kept = lambda ratings: {k: v for k, v in ratings.items() if k[0] not in reviewers or k[0] == k[1]}  # noqa: E731
        return _Team(self.members, kept(self.raw), kept(self.scaled))

    def peer_reviewers(self, member: int) -> list[int]:
        return [r for r in self.received.get(member, ()) if r != member]

    def rated_by(self, member: int) -> list[int]:
        return self.given.get(member, [])

    def peer_average(self, member: int) -> float | None:
        return _mean([self.raw[(r, member)] for r in self.peer_reviewers(member)])

    def average_with_self(self, member: int) -> float | None:
        return _mean([self.raw[(r, member)] for r in self.received.get(member, ())])

    def scaled_peer_average(self, member: int, without: int | None = None) -> float | None:
        return _mean([self.scaled[(r, member)] for r in self.peer_reviewers(member) if r != without])


def _labels(
    member: int, team: _Team, names: dict[int, str], uncapped: float | None, cliques, rules: Rules, counted: _Team
) -> list[Label]:
    """Every label of `member`: from all ratings (`team`), except the performer labels, which follow the factor
    and so the ratings that count (`counted`: without a manipulator's ratings of others)."""
    labels: list[Label] = []
    teammates = [m for m in team.members if m != member]
    given = team.rated_by(member)
    if teammates and not given:
        labels.append(_label("did_not_submit", {"reviews_given": 0, "teammates": len(teammates)}))
    if uncapped is not None and len(counted.peer_reviewers(member)) > 0:
        if uncapped >= 1 + rules.performer_margin:
            labels.append(_label(
                "high_performer", {"factor": round(uncapped, 2), "threshold": round(1 + rules.performer_margin, 2)}
            ))
        elif uncapped <= 1 - rules.performer_margin:
            labels.append(_label(
                "low_performer", {"factor": round(uncapped, 2), "threshold": round(1 - rules.performer_margin, 2)}
            ))
    own = team.scaled.get((member, member))
    peers = team.scaled_peer_average(member)
    if own is not None and peers is not None:
        gap = own - peers
        if gap >= rules.confidence_gap:
            labels.append(_label("overconfident", {"self": round(own, 2), "peers": round(peers, 2), "gap": round(gap, 2)}))
        elif -gap >= rules.confidence_gap:
            labels.append(_label("underconfident", {"self": round(own, 2), "peers": round(peers, 2), "gap": round(gap, 2)}))
    manipulation = _manipulation(member, team, given, rules)
    if manipulation is not None:
        labels.append(manipulation)
    conflict = _conflict(member, team, names, cliques, rules)
    if conflict is not None:
        labels.append(conflict)
    if cliques is not None and member in cliques.members:
        labels.append(cliques.label(member, names))
    return labels


def _manipulation(member: int, team: _Team, given: list[int], rules: Rules) -> Label | None:
    """Rates themself high and every teammate (at least two) clearly lower than the others rate them.

    At the floor of the scale the others cannot rate a teammate any lower, so "lower than the others" cannot
    show: a student who rates every teammate at the very bottom and themself at least the gap above what
    their peers give them is labelled too (the floor effect)."""
    own = team.scaled.get((member, member))
    if own is None or len(given) < 2:
        return None
    mine_all = [team.scaled[(member, mate)] for mate in given]
    peers_of_member = team.scaled_peer_average(member)
    if (max(mine_all) <= _FLOOR and peers_of_member is not None
            and own - peers_of_member >= rules.manipulator_gap and own - max(mine_all) >= rules.manipulator_gap):
        return _label("manipulator", {"self": round(own, 2), "teammates_rated_lower": len(given), "smallest_gap": 0.0,
                                      "at_floor": True, "above_peers": round(own - peers_of_member, 2)})
    gaps = []
    for mate in given:
        others = team.scaled_peer_average(mate, without=member)
        mine = team.scaled[(member, mate)]
        if others is None or own - mine < rules.manipulator_gap or others - mine < rules.manipulator_gap:
            return None
        gaps.append(others - mine)
    return _label(
        "manipulator", {"self": round(own, 2), "teammates_rated_lower": len(given), "smallest_gap": round(min(gaps), 2)}
    )


_FLOOR = 0.05  # a rating within this share of the scale's bottom is at the floor


def _conflict(member: int, team: _Team, names: dict[int, str], cliques, rules: Rules) -> Label | None:
    """One reviewer rates the student far below the other reviewers do, and far below how that reviewer
    rates the rest of the team: a reviewer who is harsh on everyone, or a split the clique label
    already explains, is no conflict with this student."""
    worst = None
    for reviewer in team.peer_reviewers(member):
        if cliques is not None and cliques.apart(reviewer, member):
            continue
        mine = team.scaled[(reviewer, member)]
        others = team.scaled_peer_average(member, without=reviewer)
        habit = _mean([team.scaled[(reviewer, m)] for m in team.rated_by(reviewer) if m != member])
        if others is None or habit is None:
            continue
        gap = min(others - mine, habit - mine)
        if gap >= rules.conflict_gap and (worst is None or gap > worst[1]):
            worst = (reviewer, gap, mine, others)
    if worst is None:
        return None
    reviewer, gap, mine, others = worst
    return _label(
        "conflict", {"reviewer": names.get(reviewer, str(reviewer)), "rating": round(mine, 2), "others": round(others, 2)}
    )


@dataclass(frozen=True)
class _Clique:
    groups: tuple[tuple[int, ...], tuple[int, ...]]
    within: float
    between: float

    @property
    def members(self) -> set[int]:
        return set(self.groups[0]) | set(self.groups[1])

    def apart(self, a: int, b: int) -> bool:
        return (a in self.groups[0]) != (b in self.groups[0])

    def label(self, member: int, names: dict[int, str]) -> Label:
        own = self.groups[0] if member in self.groups[0] else self.groups[1]
        return _label(
            "clique",
            {"within": round(self.within, 2), "between": round(self.between, 2),
             "group": [names.get(m, str(m)) for m in own]},
        )


def _clique(team: _Team, rules: Rules) -> _Clique | None:
    """The split of the team into two groups (two or more each) whose members rate their own group
    far higher than the other group, if there is one."""
    members = team.members
    if len(members) < 4 or len(members) > CLIQUE_MAX_TEAM:
        return None
    best: _Clique | None = None
    first, rest = members[0], members[1:]
    for size in range(1, len(members) - 2):
        for chosen in combinations(rest, size):  # `first` is always in group one: each split once
            one = (first, *chosen)
            two = tuple(m for m in members if m not in one)
            if len(two) < 2:
                continue
            within_one = _mean([v for (r, e), v in team.scaled.items() if r != e and r in one and e in one])
            within_two = _mean([v for (r, e), v in team.scaled.items() if r != e and r in two and e in two])
            between = _mean([v for (r, e), v in team.scaled.items() if (r in one) != (e in one)])
            if within_one is None or within_two is None or between is None:
                continue
            within = min(within_one, within_two)
            if within - between >= rules.clique_gap and (best is None or within - between > best.within - best.between):
                best = _Clique((one, two), within, between)
    return best


def _team_insight(name: str, team: _Team, average: float | None, criteria, rules: Rules) -> TeamInsight:
    submitted = sum(1 for m in team.members if team.rated_by(m))
    disagreement = _mean([
        pstdev(values) for m in team.members
        if len(values := [team.scaled[(r, m)] for r in team.peer_reviewers(m)]) >= 2
    ])
    with i18n.use_language(i18n.SOURCE_LANGUAGE):
        reasons = team_reasons(submitted, len(team.members), disagreement, rules)
    span = fmean(c.max_score - c.min_score for c in criteria) if criteria else 0
    matrix: dict[int, dict[int, float]] = defaultdict(dict)
    for (reviewer, reviewee), value in sorted(team.raw.items()):
        matrix[reviewer][reviewee] = round(value, 2)
    return TeamInsight(
        name=name,
        members=tuple(team.members),
        average=_round(average),
        spread=_round(disagreement * span) if disagreement is not None else None,
        submitted=submitted,
        expected=len(team.members),
        reliable=not reasons,
        reasons=tuple(reasons),
        disagreement=_round(disagreement),
        matrix=dict(matrix),
    )


def team_reasons(submitted: int, members: int, disagreement: float | None, rules: Rules) -> list[str]:
    """Why a team's numbers are not reliable (none: they are), in the current language."""
    reasons = []
    if submitted < rules.min_reviews:
        reasons.append(_("Only %(submitted)s of %(members)s members rated their teammates (at least %(needed)s are needed).",
                         submitted=submitted, members=members, needed=rules.min_reviews))
    if disagreement is not None and disagreement > rules.spread_max:
        reasons.append(_("Reviewers of the same student disagree by %(disagreement)s of the scale on average "
                         "(more than %(limit)s).",
                         disagreement=i18n.format_percent(disagreement), limit=i18n.format_percent(rules.spread_max)))
    return reasons


def _ranks(averages: dict[int, float | None]) -> dict[int, int]:
    """1 for the highest peer average in the team; equal averages share a rank."""
    ordered = sorted((v for v in averages.values() if v is not None), reverse=True)
    return {m: ordered.index(v) + 1 for m, v in averages.items() if v is not None}


def _mean(values: list[float]) -> float | None:
    return fmean(values) if values else None


def _ratio(value: float | None, average: float | None) -> float | None:
    if value is None or not average:
        return None
    return value / average


def _cap(factor: float | None, rules: Rules) -> float | None:
    return None if factor is None else min(factor, rules.factor_cap)


def _round(value: float | None) -> float | None:
    # Ratios of shares carry float noise: the same factor on a scale of 1-5 and of 3-15 came out as
    # 0.374999... and 0.375000..., so 0.37 and 0.38. Cut the noise off before rounding to what is shown.
    return None if value is None else round(round(value, 9), 2)


def rating_sheet(session: Session, evaluation_id: int, teams: dict[int, str] | None = None) -> RatingSheet:
    """The evaluation's ratings as plain data. A member's team is the one named on the reviews they
    received (or gave); members of an evaluation without team names are grouped by who rated whom.

    `teams`: read only these members and the ratings among them, in these teams (a part of the class's
    `roster`, so a member is in the team the whole class puts them in); None: the whole class."""
    criteria = tuple(
        CriterionInfo(c.id, c.name, c.min_score, c.max_score)
        for c in session.scalars(
            select(Criterion).where(Criterion.evaluation_id == evaluation_id).order_by(Criterion.position, Criterion.id)
        )
    )
    among = [Allocation.evaluation_id == evaluation_id]
    if teams is not None:
        among.append(Allocation.reviewee_id.in_(list(teams)))  # the reviewer's side in Python: half the parameters
    allocations = [
        a for a in session.scalars(select(Allocation).where(*among).order_by(Allocation.id))
        if teams is None or a.reviewer_id in teams
    ]
    values: dict[int, dict[int, float]] = defaultdict(dict)
    for allocation_id, criterion_id, value in session.execute(
        select(Score.allocation_id, Score.criterion_id, Score.value)
        .join(Allocation, Score.allocation_id == Allocation.id)
        .where(*among, Score.value.is_not(None))
    ):
        values[allocation_id][criterion_id] = value
    if teams is None:
        member_ids = {a.reviewer_id for a in allocations} | {a.reviewee_id for a in allocations}
    else:
        member_ids = set(teams)
    names = {user_id: name for user_id, name in session.execute(select(User.id, User.name).where(User.id.in_(member_ids)))}
    return RatingSheet(
        criteria=criteria,
        names=names,
        teams=_teams(allocations) if teams is None else teams,
        ratings=tuple(Rating(a.reviewer_id, a.reviewee_id, values.get(a.id, {})) for a in allocations),
    )


@dataclass(frozen=True)
class Roster:
    """Who is in which team, for a whole class: ids and team names only, so a page of insights or a batch
    of an export reads the ratings of its own teams only and still groups every member as the whole class does."""

    teams: dict[int, str]  # member id → team name

    @classmethod
    def of(cls, allocations) -> Roster:
        """From the class's allocations (reviewer_id, reviewee_id, team), in id order."""
        return cls(_teams(allocations))

    @cached_property
    def members(self) -> dict[str, list[int]]:
        """Team name → its members, teams in name order."""
        members: dict[str, list[int]] = defaultdict(list)
        for member, team in sorted(self.teams.items()):
            members[team].append(member)
        return dict(sorted(members.items()))

    @property
    def team_names(self) -> list[str]:
        return list(self.members)

    def of_teams(self, names: Iterable[str]) -> dict[int, str]:
        """The members of the teams `names`, each with their team."""
        return {member: name for name in names for member in self.members.get(name, ())}


def roster(session: Session, evaluation_id: int) -> Roster:
    """The class's teams, from one read of who reviews whom (no scores, no names)."""
    return Roster.of(session.execute(
        select(Allocation.reviewer_id, Allocation.reviewee_id, Allocation.team)
        .where(Allocation.evaluation_id == evaluation_id)
        .order_by(Allocation.id)
    ).all())


# Teams on a page of insights unless asked otherwise: a class of a hundred teams (thousands of students)
# is whole on the first page; a larger one is answered a page at a time.
TEAMS_PER_PAGE = 100


@dataclass(frozen=True)
class InsightsPage(Insights):
    """The insights of one page of a class's teams (in team-name order) and their students."""

    page: int  # 1 = the first
    pages: int
    teams_total: int  # teams in the whole class
    next_page: int | None  # None: this is the last page


def insights_page(session: Session, evaluation_id: int, rules: Rules, page: int, per_page: int) -> InsightsPage:
    """Page `page` of the class's insights, `per_page` teams to a page: the work and the answer grow with
    the page, not the class (beyond the roster). A page past the last one has no teams."""
    names = roster(session, evaluation_id)
    on_page = names.team_names[(page - 1) * per_page : page * per_page]
    insights = analyse(rating_sheet(session, evaluation_id, names.of_teams(on_page)), rules)
    total = len(names.team_names)
    pages = max(1, -(-total // per_page))
    return InsightsPage(
        students=insights.students,
        teams=insights.teams,
        rules=rules,
        page=page,
        pages=pages,
        teams_total=total,
        next_page=page + 1 if page < pages else None,
    )


def _teams(allocations) -> dict[int, str]:
    named: dict[int, str] = {}
    for a in allocations:
        if a.team:
            named.setdefault(a.reviewee_id, a.team)
    for a in allocations:
        if a.team:
            named.setdefault(a.reviewer_id, a.team)
    # Unnamed members: connected groups of who rated whom (union-find), numbered in member order.
    parent: dict[int, int] = {}

    def root(m: int) -> int:
        while parent.setdefault(m, m) != m:
            parent[m] = parent[parent[m]]
            m = parent[m]
        return m

    for a in allocations:
        if a.reviewer_id not in named and a.reviewee_id not in named:
            parent[root(a.reviewer_id)] = root(a.reviewee_id)
    unnamed = sorted({m for a in allocations for m in (a.reviewer_id, a.reviewee_id)} - set(named))
    numbers: dict[int, int] = {}
    for member in unnamed:
        group = numbers.setdefault(root(member), len(numbers) + 1)
        named[member] = f"Team {group}"
    return named
