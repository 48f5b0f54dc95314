"""Inclusive UTC day ranges, their edges and their previous periods (pure, no I/O)."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from store.analytics.ranges import DateRange, check_dates, where
from store.analytics.errors import AnalyticsQueryError


def test_a_range_covers_its_first_and_last_instant():
    rng = DateRange(date(2026, 1, 1), date(2026, 1, 31))
    assert rng.lo == datetime(2026, 1, 1, 0, 0, 0)
    assert rng.last == datetime(2026, 1, 31, 23, 59, 59, 999_999)
    assert rng.days == 31
    assert where(rng, None, None)[0] == (
        "ts >= TIMESTAMP '2026-01-01 00:00:00' AND ts <= TIMESTAMP '2026-01-31 23:59:59.999999'"
    )


def test_the_previous_period_has_the_same_length_and_ends_the_day_before():
    assert DateRange(date(2026, 3, 1), date(2026, 3, 10)).previous() == DateRange(date(2026, 2, 19), date(2026, 2, 28))


def test_the_last_day_a_date_can_name_is_a_valid_end():
    rng = DateRange(date(9999, 12, 31), date(9999, 12, 31))
    assert rng.last == datetime(9999, 12, 31, 23, 59, 59, 999_999)


@pytest.mark.parametrize("start, end", [(date(1, 1, 1), date(1, 1, 1)), (date(2, 1, 1), date(9999, 1, 1))])
def test_a_previous_period_before_year_one_is_none(start, end):
    assert DateRange(start, end).previous() is None


def test_a_reversed_range_or_a_datetime_is_refused_naming_the_value():
    with pytest.raises(AnalyticsQueryError, match="2026-01-02"):
        DateRange(date(2026, 1, 2), date(2026, 1, 1))
    with pytest.raises(AnalyticsQueryError, match="datetime.datetime"):
        check_dates(datetime(2026, 1, 1, tzinfo=timezone.utc), None)  # an instant must be naive UTC


def test_an_instant_bounds_the_range_exactly_and_still_counts_calendar_days():
    rng = DateRange(datetime(2026, 1, 1, 12, 0), date(2026, 1, 3))
    assert (rng.lo, rng.last) == (datetime(2026, 1, 1, 12, 0), datetime(2026, 1, 3, 23, 59, 59, 999_999))
    assert rng.days == 3 and rng.previous() == DateRange(date(2025, 12, 29), date(2025, 12, 31))
    assert rng.as_dict() == {"start": "2026-01-01T12:00:00+00:00", "end": "2026-01-03"}
    with pytest.raises(AnalyticsQueryError):
        DateRange(datetime(2026, 1, 1, 12, 0), datetime(2026, 1, 1, 11, 59))
