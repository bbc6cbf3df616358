"""Insights from the numbers alone: one constructed team per situation, and the properties a factor must have."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from peerdigest.config import Settings
from peerdigest.domain.insights import CriterionInfo, Rating, RatingSheet, Rules, analyse as analyse_with

RULES = Rules.from_settings(Settings(_env_file=None))  # the documented defaults
CRITERIA = (CriterionInfo(1, "Collaboration", 1, 5), CriterionInfo(2, "Effort", 1, 5))


def sheet(given: dict[str, dict[str, float | None]], members: str | None = None, criteria=CRITERIA) -> RatingSheet:
    """A one-team sheet from `{reviewer: {reviewee: score}}`; the score is given on every criterion."""
    names = sorted(set(members or "") | set(given) | {e for row in given.values() for e in row})
    ids = {name: i + 1 for i, name in enumerate(names)}
    ratings = tuple(
        Rating(ids[r], ids[e], {} if v is None else {c.id: v for c in criteria})
        for r, row in given.items() for e, v in row.items()
    )
    return RatingSheet(criteria=criteria, names={i: n for n, i in ids.items()}, teams={i: "T" for i in ids.values()},
                       ratings=ratings)


def everyone(names: str, value: float, **overrides: dict[str, float]) -> dict[str, dict[str, float]]:
    """Every member rates every teammate `value`, except where `overrides` says otherwise."""
    given = {r: {e: value for e in names if e != r} for r in names}
    for reviewer, row in overrides.items():
        given.setdefault(reviewer, {}).update(row)
    return given


def analyse(sheet: RatingSheet):
    return analyse_with(sheet, RULES)


def labels(insights) -> dict[str, set[str]]:
    return {s.name: {label.code for label in s.labels} for s in insights.students if s.labels}


def test_a_team_that_rates_everyone_the_same_has_factor_one_and_no_label():
    insights = analyse(sheet(everyone("ABCD", 4)))
    assert [s.factor for s in insights.students] == [1.0] * 4
    assert labels(insights) == {}
    assert insights.teams[0].reliable


def test_high_performer():
    insights = analyse(sheet(everyone("ABCD", 3.5, A={"B": 5}, C={"B": 5}, D={"B": 5})))
    assert labels(insights) == {"B": {"high_performer"}}
    b = insights.student(2)
    assert b.uncapped_factor == pytest.approx(5 / ((5 + 3.5 * 3) / 4), abs=0.01)
    assert b.factor == RULES.factor_cap  # capped for grading
    assert b.rank == 1


def test_low_performer():
    insights = analyse(sheet(everyone("ABCD", 4, A={"B": 2.5}, C={"B": 2.5}, D={"B": 2.5})))
    assert labels(insights) == {"B": {"low_performer"}}
    assert insights.student(2).rank == 4


def test_overconfident_and_underconfident_compare_the_self_rating_with_peers():
    over = analyse(sheet(everyone("ABCD", 3, A={"A": 4.5})))
    assert labels(over) == {"A": {"overconfident"}}
    under = analyse(sheet(everyone("ABCD", 4, A={"A": 2})))
    assert labels(under) == {"A": {"underconfident"}}
    assert under.student(1).self_rating == 2


def test_manipulator_rates_themself_high_and_every_teammate_low():
    given = everyone("ABCD", 4, A={"A": 4.8, "B": 3, "C": 3, "D": 3}, B={"A": 4.1}, C={"A": 4.1}, D={"A": 4.1})
    assert labels(analyse(sheet(given))) == {"A": {"manipulator"}}


def test_conflict_is_one_reviewer_far_below_the_others_and_below_their_own_habit():
    given = everyone("ABCD", 4, A={"B": 2.5})
    insights = analyse(sheet(given))
    assert labels(insights) == {"B": {"conflict"}}
    (label,) = insights.student(2).labels
    assert label.numbers["reviewer"] == "A"


def test_a_reviewer_harsh_on_everyone_is_no_conflict():
    assert "conflict" not in {code for codes in labels(analyse(sheet(everyone("ABCDE", 4, A={
        "B": 2.5, "C": 2.5, "D": 2.5, "E": 2.5})))).values() for code in codes}


def test_clique_is_a_team_split_in_two_groups_that_rate_each_other_high_and_the_rest_low():
    given = everyone("ABCD", 2, A={"B": 5}, B={"A": 5}, C={"D": 5}, D={"C": 5})
    insights = analyse(sheet(given))
    assert labels(insights) == {name: {"clique"} for name in "ABCD"}
    assert sorted(insights.student(1).labels[0].numbers["group"]) == ["A", "B"]


def test_did_not_submit():
    given = everyone("ABC", 4)
    given["D"] = {"A": None, "B": None, "C": None}  # an empty review form
    for reviewer in "ABC":
        given[reviewer]["D"] = 4
    insights = analyse(sheet(given))
    assert labels(insights) == {"D": {"did_not_submit"}}
    assert insights.teams[0].submitted == 3 and insights.teams[0].expected == 4


def test_removing_a_non_submitters_empty_review_changes_nothing():
    with_empty = everyone("ABC", 4, A={"B": 3})
    with_empty["D"] = {"A": None, "B": None}
    for reviewer in "ABC":
        with_empty[reviewer]["D"] = 3.5
    without = {r: {e: v for e, v in row.items()} for r, row in with_empty.items() if r != "D"}
    assert analyse(sheet(with_empty)) == analyse(sheet(without, members="ABCD"))


def test_a_team_with_one_submitted_review_is_unreliable_and_says_why():
    team = analyse(sheet({"A": {"B": 4, "C": 4}}, members="ABC")).teams[0]
    assert not team.reliable
    assert "Only 1 of 3 members" in team.reasons[0]


def test_reviewers_who_disagree_make_a_team_unreliable():
    given = {"A": {"C": 1, "D": 5}, "B": {"C": 5, "D": 1}, "C": {"A": 3, "B": 3}, "D": {"A": 3, "B": 3}}
    team = analyse(sheet(given)).teams[0]
    assert not team.reliable and "disagree" in team.reasons[0]


def test_the_factor_with_self_counts_the_self_rating_as_one_more_rating():
    student = analyse(sheet(everyone("AB", 4, A={"A": 2}))).student(1)
    assert student.factor == 1.0
    assert student.factor_with_self == pytest.approx(3 / 3.5, abs=0.01)


ratings_strategy = st.dictionaries(
    st.sampled_from("ABCDE"), st.dictionaries(st.sampled_from("ABCDE"), st.integers(1, 5), min_size=1), min_size=2
)


@settings(max_examples=60, deadline=None)
@given(ratings_strategy, st.sampled_from([2, 3, 10]))
def test_the_factor_is_invariant_to_scaling_the_scale(given, k):
    scaled_criteria = tuple(CriterionInfo(c.id, c.name, c.min_score * k, c.max_score * k) for c in CRITERIA)
    scaled = {r: {e: v * k for e, v in row.items()} for r, row in given.items()}
    plain, times_k = analyse(sheet(given)), analyse(sheet(scaled, criteria=scaled_criteria))
    assert [s.uncapped_factor for s in plain.students] == [s.uncapped_factor for s in times_k.students]
    assert labels(plain) == labels(times_k)


@settings(max_examples=60, deadline=None)
@given(ratings_strategy)
def test_factors_average_to_one_in_every_team(given):
    factors = [s.uncapped_factor for s in analyse(sheet(given)).students if s.uncapped_factor is not None]
    if factors:
        assert sum(factors) / len(factors) == pytest.approx(1.0, abs=0.02)


def test_a_manipulators_ratings_of_others_count_in_nobodys_factor():
    # A rates themself top and every teammate at 1. Counted, those 1s would pull B, C and D a third of
    # the way down and make A, rated an honest 4 by all, the team's "high performer".
    given = everyone("ABCD", 4, A={"A": 5, "B": 1, "C": 1, "D": 1}, C={"B": 4.4}, D={"B": 4.4})
    insights = analyse(sheet(given))
    assert "manipulator" in labels(insights)["A"] and "high_performer" not in labels(insights)["A"]
    assert set(labels(insights)) == {"A"}
    b = insights.student(2)
    assert (b.reviews_received, b.peer_average) == (2, pytest.approx(4.4)), "A's rating of B does not count"
    assert [s.uncapped_factor for s in insights.students] == pytest.approx([4 / 4.1, 4.4 / 4.1, 4 / 4.1, 4 / 4.1], abs=0.01)


def test_a_manipulator_at_the_floor_of_the_scale_is_found_by_self_against_peers():
    # Everyone rates C and D at 1, so A's 1s are no lower than the others': only A's own 5 against
    # the 2 peers give A gives A away.
    given = everyone("ABCD", 1, A={"A": 5}, B={"A": 2}, C={"A": 2}, D={"A": 2})
    assert "manipulator" in labels(analyse(sheet(given)))["A"]


def test_a_team_of_two_is_never_reliable_each_label_would_rest_on_one_rating():
    team = analyse(sheet({"A": {"B": 4}, "B": {"A": 2}})).teams[0]
    assert not team.reliable
    assert "at least 3 are needed" in team.reasons[0]


def test_a_labels_reason_is_english_for_the_api_and_in_the_readers_language_on_a_page():
    from peerdigest import i18n
    from peerdigest.domain.insights import LABELS, describe, team_reasons

    from peerdigest.domain.insights import _label

    label = _label("low_performer", {"factor": 0.73, "threshold": 0.8})
    assert label.reason == "Peers rate this student 0.73 times the team average."
    with i18n.use_language("nl"):
        assert label.said() == "Teamgenoten beoordelen deze leerling 0,73 keer het teamgemiddelde."
        assert describe("overconfident", {"gap": 0.25}).startswith("De zelfbeoordeling ligt 25%")
        assert i18n.translate(LABELS["low_performer"].name) == "kleine bijdrage"
        rules = Rules(factor_cap=1.05, performer_margin=0.2, confidence_gap=0.2, manipulator_gap=0.2,
                      conflict_gap=0.3, clique_gap=0.3, min_reviews=3, spread_max=0.25)
        assert team_reasons(1, 3, 0.3, rules) == [
            "Maar 1 van de 3 leden beoordeelden hun teamgenoten (er zijn er minstens 3 nodig).",
            "Beoordelaars van dezelfde leerling verschillen gemiddeld 30% van de schaal (meer dan 25%).",
        ]
