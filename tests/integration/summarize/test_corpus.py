"""The quality corpus itself: big enough, every edge case present, and its manifest true to its data."""

import pytest

from peerdigest.summarize.injection import screen
from tests.support.corpus import clearly_weakest, corpus_sets

SETS = corpus_sets()
EDGE_CASES = {
    "single-reviewer", "all-positive", "all-negative", "contradictory", "long-comments", "emoji", "profanity",
    "names", "no-comments", "unscored-criterion", "mixed-language", "self-assessment", "balanced",
    "injection", "fake-system", "html", "markdown",
}


def test_the_corpus_holds_at_least_forty_sets_in_dutch_and_english():
    assert len(SETS) >= 40
    assert {s.language for s in SETS} == {"nl", "en"}


@pytest.mark.parametrize("language", ["nl", "en"])
def test_every_edge_case_is_in_the_corpus_in_both_languages(language):
    covered = {tag for s in SETS if s.language == language for check in s.checks for tag in check.edge}
    assert EDGE_CASES <= covered, f"missing in {language}: {EDGE_CASES - covered}"
    injections = [s for s in SETS if s.language == language and any(c.injection for c in s.checks)]
    assert len(injections) >= 5


@pytest.mark.parametrize("corpus_set", SETS, ids=lambda s: s.name)
def test_the_manifest_says_what_the_data_shows(corpus, corpus_set):
    for check in corpus_set.checks:
        received = corpus[corpus_set.name][check.student]
        assert received.language == corpus_set.language
        assert check.reviewers is None or received.reviewer_count == check.reviewers
        assert clearly_weakest(received) == check.weakest
        assert tuple(c.name for c in received.criteria if c.average is None) == check.unscored
        assert bool(screen(received).removed) == check.injection, "screening finds exactly the injection attempts"
        assert (check.method == "empty") == (not received.comments)
