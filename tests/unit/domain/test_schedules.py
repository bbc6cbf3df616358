"""Cron expressions: which are accepted, and when they next match, in the configured time zone."""

from datetime import datetime, timezone

import pytest

from peerdigest.config import Settings
from peerdigest.domain.schedules import ScheduleError, next_run, validate_cron


def test_five_field_expressions_and_at_aliases_are_accepted_and_tidied():
    assert validate_cron("  0  8 * *   mon ") == "0 8 * * mon"
    assert validate_cron("@daily") == "@daily"


@pytest.mark.parametrize("cron", ["", "* * * *", "0 0 8 * * mon", "0 25 * * *", "@fortnightly"])
def test_anything_else_is_refused_with_a_reason(cron):
    with pytest.raises(ScheduleError, match="Invalid cron expression"):
        validate_cron(cron)


def test_the_next_run_is_read_in_the_schedule_time_zone_across_a_clock_change():
    amsterdam = Settings(_env_file=None, schedule_timezone="Europe/Amsterdam")
    saturday_noon = datetime(2026, 3, 28, 12, 0, tzinfo=timezone.utc)
    # Summer time starts on Sunday 29 March 2026: 08:00 in Amsterdam is then 06:00 UTC, a day earlier 07:00 UTC.
    assert next_run("0 8 * * *", saturday_noon, amsterdam) == datetime(2026, 3, 29, 6, 0, tzinfo=timezone.utc)
    utc = Settings(_env_file=None)
    assert next_run("0 8 * * *", saturday_noon, utc) == datetime(2026, 3, 29, 8, 0, tzinfo=timezone.utc)
