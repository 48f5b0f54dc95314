""""N days" means one thing everywhere: N calendar days in UTC, today included.

Before, a 7-day retention on the Settings page kept the last 168 hours, the Analytics page's "Last 7 days"
covered 7 calendar days, and `demo-data --days 90` spread records over 91 calendar days.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from dashboard import filters
from dashboard._retention import preview
from prompt_improver.demo import generate_demo_records
from store.memory import InMemoryPromptRepository
from store.query_rules import cutoff
from store.timestamps import utc_now
from tests.support.builders import make_record

NOW = datetime(2026, 12, 2, 10, 30, tzinfo=timezone.utc)  # a Wednesday morning


@pytest.mark.parametrize("days", [1, 7, 30, 90])
def test_retention_analytics_presets_and_demo_data_cover_the_same_days(days):
    first_kept = cutoff(days, NOW)
    assert first_kept == datetime.combine(NOW.date() - timedelta(days=days - 1), datetime.min.time(), timezone.utc)
    if f"{days}d" in filters.PRESET_DAYS:
        start, end = filters.preset_range(f"{days}d", NOW.date())
        assert (start, end) == (first_kept.date(), NOW.date())
    stamps = [record.timestamp for record in generate_demo_records(2_000, days=days, seed=1, now=NOW)]
    assert len({stamp.date() for stamp in stamps}) == days  # not days + 1
    assert min(stamps) >= first_kept and max(stamps) <= NOW  # nothing a same-length retention would delete


def test_a_seven_day_retention_keeps_the_seventh_day_back_from_its_first_moment():
    today = utc_now().date()
    seventh = datetime.combine(today - timedelta(days=6), datetime.min.time(), timezone.utc)
    repo = InMemoryPromptRepository()
    repo.save(make_record(timestamp=seventh + timedelta(seconds=1)))  # kept: more than 144 h ago at most times
    repo.save(make_record(timestamp=seventh - timedelta(seconds=1)))  # the day before: deleted
    plan = preview(repo, 7)
    assert plan.cutoff == seventh.date() and plan.count == 1
    assert repo.delete_older_than(7) == 1 and len(repo.find_recent()) == 1
