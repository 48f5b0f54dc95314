"""PostgreSQL's full-text search on N records (issue 12), with the baselines measured in the same run.

    .venv/bin/python bench/bench_postgres.py --search-only [--rows 1000000] [--url postgresql://…]

(part of `bench/bench_postgres.py`; a module of its own for its size). A history is written at schema version 4 (before the search
column), then upgraded in place as a user's would be. Printed, with the load average beside each part:
1. the upgrade: migrations 5 and 6, the back-fill of the search column, the CONCURRENTLY-built GIN index;
2. History search over 365 days, two-word queries, page of 50 (as the dashboard asks, through the
   analytics): the index newest first and best match first vs the substring scan it replaces (the same
   page while the index is marked incomplete), medians of --repeat;
3. best match's ranking inside PostgreSQL: the vector kept in the row (migration 6) vs PostgreSQL's default
   storage, on a copy of the same rows made in the same run;
4. the same two words as SQL inside PostgreSQL (count + newest 50 over 365 days): the tsvector GIN index
   vs an `ILIKE` scan vs `pg_trgm` (a GIN trigram index on idea and prompt, the substring alternative the
   issue names), with each index's build time and size.
"""

from __future__ import annotations

import sys
import time
from datetime import timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from bench_million import load, median_s  # noqa: E402

from prompt_improver.demo import generate_demo_records  # noqa: E402
from store.analytics.engine import Analytics  # noqa: E402
from store.postgres.fts import tsquery  # noqa: E402
from store.postgres.migrations import migrate  # noqa: E402
from store.postgres.rows import RECORD_COLUMNS, record_to_row  # noqa: E402
from store.postgres.schema import MIGRATIONS  # noqa: E402
from store.postgres.search_index import backfill  # noqa: E402
from store.search_query import parse  # noqa: E402

QUERIES = ("rate limiter", "newsletter subscribers")  # as bench/bench_million.py asks SQLite
_WINDOW = "timestamp >= %s AND timestamp < %s"


def version_4_history(admin_url: str, rows: int) -> str:
    """A new database at schema version 4 holding `rows` demo records over 365 days (no search column)."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute('DROP DATABASE IF EXISTS "bench_search"')
        conn.execute('CREATE DATABASE "bench_search"')
    url = admin_url.rsplit("/", 1)[0] + "/bench_search"
    began = time.perf_counter()
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE prompt_improver_schema (version integer NOT NULL)")
        conn.execute("INSERT INTO prompt_improver_schema VALUES (4)")
        for script in MIGRATIONS[:4]:
            conn.execute(script)
        with conn.cursor() as cursor, cursor.copy(
            f"COPY prompt_history ({', '.join(RECORD_COLUMNS)}) FROM STDIN"
        ) as copy:
            for record in generate_demo_records(rows, days=365):
                copy.write_row(record_to_row(record)[:len(RECORD_COLUMNS)])
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) prompt_history")
    print(f"{rows:,} records at schema version 4 written in {time.perf_counter() - began:.0f} s ({load()})")
    return url


def upgrade(url: str) -> None:
    began = time.perf_counter()
    migrate(url)
    migrated = time.perf_counter() - began
    filled: list[float] = []
    began = time.perf_counter()
    backfill(url, progress=lambda state: filled.append(time.perf_counter() - began) if state.fraction < 1 else None)
    total = time.perf_counter() - began
    began = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) prompt_history")
        size = conn.execute("SELECT pg_relation_size('idx_prompt_history_search')").fetchone()[0]
    print(f"upgrade: migrations 5 and 6 {migrated * 1e3:.0f} ms; back-fill {filled[-1]:.0f} s + GIN index "
          f"{total - filled[-1]:.0f} s = {total:.0f} s ({size / 1e6:.0f} MB index); then VACUUM (ANALYZE) "
          f"{time.perf_counter() - began:.0f} s ({load()})")


def _mark_incomplete(url: str, done: str) -> None:
    with psycopg.connect(url) as conn:
        conn.execute("UPDATE app_settings SET value = %s WHERE key = 'search_backfill_done'", (done,))


def history_search(url: str, repeat: int) -> None:
    with Analytics(url) as analytics:
        analytics.sync()
        last = analytics.kpis()["end"]
        from datetime import date

        last = date.fromisoformat(last)
        start = last - timedelta(days=364)
        timings = {}
        for query in QUERIES:
            for order in ("time", "relevance"):
                found = analytics.history_page(start, last, text=query, order=order)[1]
                timings[(query, order)] = (median_s(lambda: analytics.history_page(
                    start, last, text=query, order=order), repeat), found)
        with psycopg.connect(url) as conn:
            done = conn.execute("SELECT value FROM app_settings WHERE key = 'search_backfill_done'").fetchone()[0]
        _mark_incomplete(url, "0")  # History now takes the substring scan it used before the index
        try:
            for query in QUERIES:
                found = analytics.history_page(start, last, text=query)[1]
                timings[(query, "scan")] = (median_s(lambda: analytics.history_page(start, last, text=query),
                                                     repeat), found)
        finally:
            _mark_incomplete(url, done)
    print(f"\nHistory search through the analytics, 365 days ({start} to {last}), page of 50, median of {repeat} "
          f"({load()})")
    print("| query | index newest first ms | index best match ms | substring scan ms | scan / index |")
    print("|---|---:|---:|---:|---:|")
    for query in QUERIES:
        (fts, n), (rel, _), (scan, scan_n) = (timings[(query, o)] for o in ("time", "relevance", "scan"))
        print(f"| {query} ({n:,} found; scan {scan_n:,}) | {fts * 1e3:.0f} | {rel * 1e3:.0f} | {scan * 1e3:.0f} | "
              f"{scan / fts:.1f}x |")


def sql_search(url: str, repeat: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        last = conn.execute("SELECT max(timestamp) FROM prompt_history").fetchone()[0]
        window = (last - timedelta(days=365), last + timedelta(seconds=1))
        began = time.perf_counter()
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        conn.execute("CREATE INDEX IF NOT EXISTS bench_trgm ON prompt_history USING gin "
                     "((original_idea || ' ' || improved_prompt) gin_trgm_ops)")
        trgm_build = time.perf_counter() - began
        trgm_size = conn.execute("SELECT pg_relation_size('bench_trgm')").fetchone()[0]
        conn.execute("ANALYZE prompt_history")

        def run(condition: str, params: tuple) -> int:
            (count,) = conn.execute(f"SELECT count(*) FROM prompt_history WHERE {_WINDOW} AND {condition}",
                                    (*window, *params)).fetchone()
            conn.execute(f"SELECT id FROM prompt_history WHERE {_WINDOW} AND {condition} "
                         "ORDER BY timestamp DESC, id DESC LIMIT 50", (*window, *params)).fetchall()
            return count

        print(f"\nThe same words as SQL in PostgreSQL (count + newest 50, 365 days), median of {repeat} ({load()}); "
              f"pg_trgm index built in {trgm_build:.0f} s, {trgm_size / 1e6:.0f} MB")
        print("| query | tsvector GIN ms | pg_trgm GIN ms | ILIKE scan ms | trgm / tsvector | scan / tsvector |")
        print("|---|---:|---:|---:|---:|---:|")
        for query in QUERIES:
            pattern = "%" + query + "%"
            cases = {
                "fts": ("search_vector @@ %s::tsquery", (tsquery(parse(query)),)),
                "trgm": ("(original_idea || ' ' || improved_prompt) ILIKE %s", (pattern,)),
                "scan": ("(original_idea ILIKE %s OR improved_prompt ILIKE %s)", (pattern, pattern)),
            }
            conn.execute("SET enable_bitmapscan = on")
            found = {name: run(*case) for name, case in cases.items()}
            ms = {name: median_s(lambda case=case: run(*case), repeat) * 1e3 for name, case in cases.items()}
            print(f"| {query} (words {found['fts']:,}; substring {found['trgm']:,}) | {ms['fts']:.0f} | "
                  f"{ms['trgm']:.0f} | {ms['scan']:.0f} | {ms['trgm'] / ms['fts']:.1f}x | {ms['scan'] / ms['fts']:.1f}x |")
        conn.execute("DROP INDEX bench_trgm")


def ranking(url: str, repeat: int) -> None:
    """Best match's ranking inside PostgreSQL: the vector kept in the row (migration 6) vs out of line, on a
    copy of the same rows in a table with PostgreSQL's default storage (extended), built in the same run."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_default_storage")
        conn.execute("CREATE TABLE bench_default_storage (LIKE prompt_history INCLUDING DEFAULTS)")
        conn.execute("ALTER TABLE bench_default_storage ALTER COLUMN search_vector SET STORAGE EXTENDED")
        conn.execute("INSERT INTO bench_default_storage SELECT * FROM prompt_history ORDER BY id")
        conn.execute("CREATE INDEX ON bench_default_storage USING gin (search_vector)")
        conn.execute("VACUUM (ANALYZE) bench_default_storage")
        print(f"\nBest match's ranking inside PostgreSQL, the matches of 365 days, median of {repeat} ({load()})")
        print("| query | in the row: unranked / ranked ms | default storage: unranked / ranked ms | ranked: default / in the row |")
        print("|---|---:|---:|---:|")
        last = conn.execute("SELECT max(timestamp) FROM prompt_history").fetchone()[0]
        window = (last - timedelta(days=365), last + timedelta(seconds=1))
        for query in QUERIES:
            ms = {}
            for table in ("prompt_history", "bench_default_storage"):
                for score in ("0", "-ts_rank(search_vector, q)"):
                    sql = (f"SELECT id, {score} FROM {table}, CAST(%s AS tsquery) AS q "
                           f"WHERE search_vector @@ q AND {_WINDOW}")
                    ms[(table, score)] = median_s(
                        lambda sql=sql: conn.execute(sql, (tsquery(parse(query)), *window)).fetchall(), repeat) * 1e3
            row, default = (
                [ms[(table, score)] for score in ("0", "-ts_rank(search_vector, q)")]
                for table in ("prompt_history", "bench_default_storage")
            )
            print(f"| {query} | {row[0]:.0f} / {row[1]:.0f} | {default[0]:.0f} / {default[1]:.0f} | "
                  f"{default[1] / row[1]:.1f}x |")
        conn.execute("DROP TABLE bench_default_storage")


def run_all(admin_url: str, rows: int, repeat: int) -> None:
    """Every part above on a new database `bench_search` of the server at `admin_url`."""
    url = version_4_history(admin_url, rows)
    upgrade(url)
    history_search(url, repeat)
    ranking(url, repeat)
    sql_search(url, repeat)
