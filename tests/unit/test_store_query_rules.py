"""The query rules both repositories share, and the migration script splitter (no I/O)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from store.query_rules import check_page, check_range, cutoff, like_pattern, text_matches
from store.sqlite.connection import split_statements
from store.timestamps import utc_now


@pytest.mark.parametrize(
    "needle, haystack, expected",
    [
        ("NEWS", "the newsletter", True),
        ("café", "Au CAFÉ", True),
        ("CAFE", "au café", False),  # an accent is a different letter, not a case
        ("straße", "STRASSE", True),  # non-ASCII text folds with Unicode case folding
        ("strasse", "Straße", False),  # ASCII text folds ASCII letters only, as SQLite's LIKE does
        ("100%", "by 1000 now", False),
        ("", "anything", True),
    ],
)
def test_text_matching_is_case_insensitive_as_documented(needle, haystack, expected):
    assert text_matches(needle, haystack) is expected


def test_like_patterns_take_wildcards_and_backslashes_literally():
    assert like_pattern("50%_off\\") == "%50\\%\\_off\\\\%"


@pytest.mark.parametrize("limit, offset", [(-1, 0), (0, -1), (1.0, 0), (True, 0), (0, None)])
def test_a_page_must_be_non_negative_integers(limit, offset):
    with pytest.raises(ValueError):
        check_page(limit, offset)


def test_a_range_needs_aware_ordered_bounds():
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    check_range(start, start)
    with pytest.raises(ValueError, match="start .* after end"):
        check_range(start, start - timedelta(seconds=1))
    with pytest.raises(ValueError, match="end must be a timezone-aware datetime"):
        check_range(start, datetime(2026, 1, 2))


def test_the_cutoff_keeps_that_many_calendar_days_today_included():
    wednesday = datetime(2026, 12, 2, 10, 30, tzinfo=timezone.utc)
    assert cutoff(7, wednesday) == datetime(2026, 11, 26, tzinfo=timezone.utc)  # Thursday 00:00 UTC
    assert cutoff(1, wednesday) == datetime(2026, 12, 2, tzinfo=timezone.utc)  # today only
    assert cutoff(30).date() == utc_now().date() - timedelta(days=29)
    with pytest.raises(ValueError, match="-3"):
        cutoff(-3)


def test_migration_scripts_split_into_complete_statements_keeping_semicolons_in_strings_and_triggers():
    script = """
    CREATE TABLE t (a TEXT DEFAULT ';'); -- a comment; with a semicolon
    CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET a = 'x;y'; END;
    INSERT INTO t VALUES ('1'); INSERT INTO t VALUES ('2');
    -- trailing comment
    """
    statements = split_statements(script)
    assert len(statements) == 4
    assert statements[1].startswith("-- a comment; with a semicolon\n    CREATE TRIGGER")
    assert statements[1].endswith("END;")
