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


def at(day: int):
    from datetime import datetime, timezone

    return datetime(2026, 2, day, 10, tzinfo=timezone.utc)


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


@pytest.mark.parametrize("text", [
    "dea 1", "100%", "ABOUT NEWS", "idea 1*", '"about newsletter"', "cafe -newsletter", "rule OR menus", '"quoted',
    "😀 -- *", "release notes -idea",
])
def test_history_search_on_postgresql_finds_what_sqlites_index_finds(both, text):
    # Both engines search their full-text index with the same parsed query: words, phrases, prefixes, OR,
    # exclusions ("dea 1" is no word: nothing; "idea 1*" is Idea 1, 10-19, 100-199).
    sqlite_side, pg_side = both
    assert pg_side.search_status() == sqlite_side.search_status() == {"indexed": 1.0}
    left, left_total = sqlite_side.history_page(None, None, text=text, limit=200)
    right, right_total = pg_side.history_page(None, None, text=text, limit=200)
    assert left_total == right_total
    pandas.testing.assert_frame_equal(left, right)
    by_relevance = pg_side.history_page(None, None, text=text, limit=200, order="relevance")
    assert sorted(by_relevance[0]["id"]) == sorted(right["id"]) and by_relevance[1] == right_total
    download = pg_side.records_csv(None, None, text=text, newest_first=True)  # the download: the same records
    assert download == sqlite_side.records_csv(None, None, text=text, newest_first=True)
    assert download.count(b"\r\n") == right_total + 1


def test_relevance_puts_the_record_with_the_most_matches_first_on_postgresql(postgres_url):
    migrate_postgres(postgres_url)
    with PostgresPromptRepository(postgres_url) as repo:
        repo.save(make_record(original_idea="A café menu card", timestamp=at(2)))
        repo.save(make_record(original_idea="Café café café news", improved_prompt="café", timestamp=at(1)))
        repo.save(make_record(original_idea="Tax summary for you", timestamp=at(3)))
    with Analytics(postgres_url) as analytics:
        newest, total = analytics.history_page(None, None, text="CAFE")
        best, _ = analytics.history_page(None, None, text="CAFE", order="relevance")
    assert total == 2 and list(newest["original_idea"]) == ["A café menu card", "Café café café news"]
    assert list(best["original_idea"]) == ["Café café café news", "A café menu card"]


def test_an_upgraded_postgresql_history_searches_substrings_until_its_index_is_built(postgres_url):
    import psycopg

    from store.postgres.search_index import backfill

    migrate_postgres(postgres_url)
    with PostgresPromptRepository(postgres_url) as repo:
        repo.save_many(list(_records())[:40])
    with psycopg.connect(postgres_url) as conn:  # as migration 5 leaves a history saved before it
        conn.execute("UPDATE prompt_history SET search_vector = NULL")
        conn.execute("UPDATE app_settings SET value = '40' WHERE key = 'search_backfill_end'")
        conn.execute("UPDATE app_settings SET value = '0' WHERE key = 'search_backfill_done'")
        conn.execute("DROP INDEX idx_prompt_history_search")
    with Analytics(postgres_url) as analytics:
        assert analytics.search_status() == {"indexed": 0.0}
        assert analytics.history_page(None, None, text="dea 1")[1] == 11  # the substring scan: Idea 1, 10-19
        assert backfill(postgres_url, batch_rows=15).complete
        assert analytics.search_status() == {"indexed": 1.0}
        assert analytics.history_page(None, None, text="dea 1")[1] == 0  # whole words now
        assert analytics.history_page(None, None, text="idea 1*")[1] == 11


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


def test_a_large_export_is_oldest_first_and_equal_on_both_engines(postgres_url, db_path, tmp_path):
    # Records saved out of time order, exported oldest first, equal on both engines. Through DuckDB's view of
    # the attached table, a 1M-record export came out of order (it began in February; measured, not
    # reproduced at this size, where that code passes too); PostgreSQL now orders the records itself.
    import csv
    from datetime import datetime, timezone

    migrate(db_path)
    migrate_postgres(postgres_url)
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    records = [make_record(timestamp=start + timedelta(minutes=7 * ((i * 7919) % 30_000)), original_idea=f"idea {i}")
               for i in range(30_000)]  # saved out of time order: ids do not follow time
    with SQLitePromptRepository(db_path) as sqlite_repo, PostgresPromptRepository(postgres_url) as pg_repo:
        sqlite_repo.save_many(records)
        pg_repo.save_many(records)
    with Analytics(db_path) as sqlite_side, Analytics(postgres_url) as pg_side:
        assert pg_side.export_records(tmp_path / "pg.csv") == sqlite_side.export_records(tmp_path / "sq.csv") == 30_000
        # In parts (store/analytics/csv_parts.py), each a query PostgreSQL orders, and in one COPY.
        seen = []
        assert pg_side.export_records(tmp_path / "pg_parts.csv", rows_per_part=2_000,
                                      progress=lambda share, rows: seen.append(rows)) == 30_000
        assert pg_side.export_records(tmp_path / "pg_one.csv", rows_per_part=10**9) == 30_000
    assert len(seen) >= 14 and seen == sorted(seen)  # part by part
    with (tmp_path / "pg.csv").open(encoding="utf-8", newline="") as handle:
        stamps = [row["timestamp"] for row in csv.DictReader(handle)]
    assert stamps == sorted(stamps)
    expected = (tmp_path / "sq.csv").read_bytes()
    assert all((tmp_path / name).read_bytes() == expected for name in ("pg.csv", "pg_parts.csv", "pg_one.csv"))
