"""How long an overloaded LLM endpoint asks to be left alone (None: it did not say; the summarizer then waits
DEFAULT_HOLD_OFF)."""

from email.utils import format_datetime
from datetime import datetime, timedelta, timezone

import pytest

from peerdigest.summarize.openai_compatible import retry_after


@pytest.mark.parametrize(("header", "seconds"), [("2", 2.0), ("0.5", 0.5), ("-3", 0.0), (None, None), ("", None),
                                                 ("soon", None)])
def test_retry_after_in_seconds(header, seconds):
    assert retry_after(header) == seconds


def test_retry_after_as_a_date():
    in_a_minute = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=60), usegmt=True)
    assert 55 < retry_after(in_a_minute) <= 60
