"""The builtin summarizer over the whole corpus: every student of every set gets a summary a teacher can trust."""

import pytest

from peerdigest.summarize.builtin import BuiltinSummarizer
from tests.support.corpus import corpus_sets, forbidden_in, mentions, problems

SETS = corpus_sets()


@pytest.mark.parametrize("corpus_set", SETS, ids=lambda s: s.name)
def test_every_summary_is_trustworthy(corpus, corpus_set):
    summarizer = BuiltinSummarizer()
    for email, received in corpus[corpus_set.name].items():
        summary = summarizer.summarize(received)
        assert summary.generation_method == ("builtin" if received.comments else "empty")
        assert problems(summary.summary_text, received) == [], f"{email}: {summary.summary_text}"


@pytest.mark.parametrize("corpus_set", SETS, ids=lambda s: s.name)
def test_what_the_manifest_expects_of_the_checked_students(corpus, corpus_set):
    for check in corpus_set.checks:
        text = BuiltinSummarizer().summarize(corpus[corpus_set.name][check.student]).summary_text
        assert forbidden_in(text, check) == [], text
        assert all(mentions(text, criterion) for criterion in check.named), text
