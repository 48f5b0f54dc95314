"""Analytics on PostgreSQL answer exactly as on SQLite: the same records in both, the same queries, equal results."""

from __future__ import annotations

from datetime import date, timedelta

import pandas.testing
import pytest

from store.analytics.engine import Analytics
from store.sqlite.migrations import migrate
from store.postgres.migrations import migrate as migrate_postgres
from store.postgres.repository import PostgresPromptRepository
from store.sqlite.repository import SQLitePromptRepository
from tests.support.builders import make_record
from tests.support.postgres import PASSWORD

pytestmark = pytest.mark.postgres
DAY = date(2026, 1, 10)


def _records():
    from datetime import datetime, timezone

    start = datetime(2026, 1, 1, 0, 0, 0, 123456, tzinfo=timezone.utc)
    for i in range(400):
        yield make_record(
            original_idea=f"Idea {i} about {'Newsletter' if i % 5 == 0 else 'release notes'} and CAFÉ menus",
            timestamp=start + timedelta(hours=i * 1.7, microseconds=i),
            backend="few-shot" if i % 3 else "zero-shot",
            confidence=None if i % 11 == 0 else (i % 97) / 97,
            latency_ms=None if i % 13 == 0 else 100.0 + i * 3.3,
            quality=(i % 89) / 89,
            model_version="openai/a" if i % 2 else "openai/b",
            framework=["AIDA", "CO-STAR", "RTF"][i % 3],
            guardrails=(f"rule {i}", "a, \"quoted\" one"),
        )


@pytest.fixture
def both(postgres_url, db_path):
    migrate(db_path)
    migrate_postgres(postgres_url)
    records = list(_records())
    with SQLitePromptRepository(db_path) as sqlite_repo, PostgresPromptRepository(postgres_url) as pg_repo:
        sqlite_repo.save_many(records)
        pg_repo.save_many(records)
    with Analytics(db_path) as sqlite_side, Analytics(postgres_url) as pg_side:
        yield sqlite_side, pg_side


@pytest.mark.parametrize("start, end, backend, model", [
    (None, None, None, None), (DAY, DAY + timedelta(days=5), None, None), (None, None, "zero-shot", "openai/a"),
])
def test_statistics_and_the_analytics_page_are_equal(both, start, end, backend, model):
    sqlite_side, pg_side = both
    assert pg_side.statistics(start, end, backend=backend, model=model) == sqlite_side.statistics(
        start, end, backend=backend, model=model
    )
    assert pg_side.statistics(start, end)["total_count"] > 0


def test_the_csv_export_is_byte_for_byte_the_same(both, tmp_path):
    sqlite_side, pg_side = both
    assert sqlite_side.export_records(tmp_path / "a.csv") == pg_side.export_records(tmp_path / "b.csv") == 400
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert sqlite_side.export_summary(tmp_path / "c.csv") == pg_side.export_summary(tmp_path / "d.csv")
    assert (tmp_path / "c.csv").read_bytes() == (tmp_path / "d.csv").read_bytes()


@pytest.mark.parametrize("text", [None, "newsletter", "café"])  # words: full-text and substring search agree
def test_history_pages_are_equal(both, text):
    sqlite_side, pg_side = both
    left, left_total = sqlite_side.history_page(None, None, text=text, limit=25, offset=5)
    right, right_total = pg_side.history_page(None, None, text=text, limit=25, offset=5)
    assert left_total == right_total
    assert len(left) == min(25, max(left_total - 5, 0))
    pandas.testing.assert_frame_equal(left, right)  # NaN (a missing latency) equals NaN here


@pytest.mark.parametrize("text, expected", [("dea 1", 111), ("100%", 0), ("ABOUT NEWS", 80)])
def test_history_search_on_postgresql_matches_a_substring_of_idea_or_prompt(both, text, expected):
    # PostgreSQL has no full-text index yet: its search stays the case-blind substring scan ("dea 1" is in
    # Idea 1, 10-19 and 100-199), where SQLite's index matches whole words.
    _, pg_side = both
    frame, total = pg_side.history_page(None, None, text=text, limit=200)
    assert total == expected == len(frame)
    assert all(text.lower() in idea.lower() for idea in frame["original_idea"])


def test_a_server_that_is_down_is_a_connection_error_without_the_password():
    from store.errors import RepositoryConnectionError

    with Analytics(f"postgresql://prompt:{PASSWORD}@127.0.0.1:1/none") as analytics:
        with pytest.raises(RepositoryConnectionError, match="cannot read the history") as raised:
            analytics.statistics(None, None)
    assert PASSWORD not in str(raised.value)


def test_the_read_model_follows_saves_prunes_and_ids_committed_out_of_order(postgres_url):
    import psycopg

    from store.postgres.rows import INSERT_SQL, record_to_row
    from store.timestamps import utc_now

    migrate_postgres(postgres_url)
    now = utc_now()
    with PostgresPromptRepository(postgres_url) as repo, Analytics(postgres_url) as analytics:
        repo.save_many(make_record(timestamp=now - timedelta(days=age)) for age in range(10))
        assert analytics.statistics(None, None)["total_count"] == 10
        assert analytics.status()["last_sync"] == "rebuild"

        repo.save(make_record(timestamp=now))
        assert analytics.statistics(None, None)["total_count"] == 11
        assert analytics.status()["last_sync"] == "append"

        # A transaction takes an id, a later one commits first, a query syncs, then the first commits.
        with psycopg.connect(postgres_url) as slow:
            slow.execute(INSERT_SQL, record_to_row(make_record(timestamp=now)))
            repo.save(make_record(timestamp=now))
            assert analytics.statistics(None, None)["total_count"] == 12
            slow.commit()
        assert analytics.statistics(None, None)["total_count"] == 13

        assert repo.delete_older_than(5) == 5  # 5 to 9 days old (the 5-day one is a moment older by now)
        assert analytics.statistics(None, None)["total_count"] == 8
        assert analytics.status()["last_sync"] == "rebuild"
