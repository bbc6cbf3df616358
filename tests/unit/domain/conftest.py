"""Domain messages are checked as written, in English (the source language); a test of the Dutch says so."""

import pytest

from peerdigest import i18n


@pytest.fixture(autouse=True)
def english():
    with i18n.use_language("en"):
        yield
