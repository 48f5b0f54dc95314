"""Benchmark of the PostgreSQL store and its analytics against baselines measured in the same run.

    .venv/bin/python bench/bench_postgres.py [--rows 1000000] [--url postgresql://…] [--export-db URL]

Without `--url` a throwaway cluster is started (initdb/pg_ctl as in the tests, fsync off). Prints:
1. `save` (median, p99) vs a raw psycopg INSERT of the same row on one open autocommit connection;
2. `demo-data --rows N` as a user runs it (subprocess; target 1M rows < 60 s), and `save_many` (COPY
   batches) vs a raw COPY of the same rows straight into the table;
3. stats and filters on N rows: the analytics as the CLI runs them (DuckDB attached to PostgreSQL,
   filters pushed down) vs the same SQL run directly in PostgreSQL, and vs a native DuckDB copy (what an
   incremental read model would hold) with the time to load that copy;
4. `copy` throughput from an SQLite file vs `save_many` of the same records from memory;
5. full-text search on N records: the upgrade (back-fill + GIN index) and two-word searches over 365 days,
   the index vs the substring scan it replaces and vs `pg_trgm` (bench/bench_postgres_search.py;
   `--search-only` runs just this part);
6. with `--export-db URL` instead (a database holding a history): the CSV export of every record vs DuckDB's
   COPY of a native table holding the same records, medians of alternating rounds, and whether it is
   oldest first.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import bench_postgres_search  # noqa: E402
from bench_store import history, median_p99, record, timed  # noqa: E402

from prompt_improver.history_copy import copy_history  # noqa: E402
from store.analytics.engine import Analytics  # noqa: E402
from store.sqlite.migrations import migrate as migrate_sqlite  # noqa: E402
from store.postgres.migrations import migrate  # noqa: E402
from store.postgres.repository import PostgresPromptRepository  # noqa: E402
from store.postgres.rows import INSERT_COLUMNS, INSERT_SQL, record_to_row  # noqa: E402
from store.sqlite.repository import SQLitePromptRepository  # noqa: E402
from store.timestamps import utc_now  # noqa: E402

SQL_STATS = """
    SELECT backend, count(*), avg(confidence), avg(quality), avg(latency_ms),
           percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms),
           percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms)
    FROM prompt_history WHERE timestamp >= %s AND timestamp < %s {extra} GROUP BY ROLLUP (backend)
"""


def new_database(admin_url: str, name: str) -> str:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = admin_url.rsplit("/", 1)[0] + "/" + name
    migrate(url)
    return url


def bench_save(url: str, repeats: int) -> None:
    now = utc_now()
    with PostgresPromptRepository(url) as repo, psycopg.connect(url, autocommit=True) as raw:
        repo.save(record(now, 0))  # warm the pool and the version check
        ours = timed(lambda: repo.save(replace(record(now, 1), uid=uuid.uuid4().hex)), repeats)
        insert = INSERT_SQL
        theirs = timed(lambda: raw.execute(insert, record_to_row(replace(record(now, 2), uid=uuid.uuid4().hex))), repeats)
    (om, op), (tm, tp) = median_p99(ours), median_p99(theirs)
    print(f"save median/p99           : {om * 1e6:7.0f} / {op * 1e6:7.0f} µs vs raw INSERT {tm * 1e6:5.0f} / "
          f"{tp * 1e6:5.0f} µs: {om / tm:4.1f}x / {op / tp:4.1f}x")


def bench_bulk(admin_url: str, rows: int) -> str:
    url = new_database(admin_url, "bench_demo")
    env = {**os.environ, "DATABASE_URL": url}
    began = time.perf_counter()
    result = subprocess.run([str(Path(sys.executable).with_name("prompt-improver")), "demo-data", "--rows", str(rows)],
                            env=env, capture_output=True, text=True, check=False)
    command_s = time.perf_counter() - began
    assert result.returncode == 0, result.stderr
    print(f"demo-data --rows {rows:,}  : {command_s:6.1f} s wall ({rows / command_s:,.0f} rows/s)")

    sample = list(history(min(rows, 200_000), days=365, end=utc_now()))
    ours_url, raw_url = new_database(admin_url, "bench_ours"), new_database(admin_url, "bench_raw")
    with PostgresPromptRepository(ours_url) as repo:
        began = time.perf_counter()
        repo.save_many(sample)
        ours = time.perf_counter() - began
    with psycopg.connect(raw_url) as conn:
        began = time.perf_counter()
        with conn.cursor() as cursor, cursor.copy(f"COPY prompt_history ({', '.join(INSERT_COLUMNS)}) FROM STDIN") as copy:
            for item in sample:
                copy.write_row(record_to_row(item))
        conn.commit()
        raw = time.perf_counter() - began
    print(f"save_many {len(sample):,} rows    : {len(sample) / ours:9,.0f} rows/s vs raw COPY {len(sample) / raw:9,.0f} "
          f"rows/s: {raw / ours:4.2f}x the raw throughput")
    return url


def bench_analytics(url: str) -> None:
    with psycopg.connect(url) as conn:
        last = conn.execute("SELECT max(timestamp) FROM prompt_history").fetchone()[0].date()
    cases = [("all", None, None, None), ("365 days", last - timedelta(days=364), last, None),
             ("30 days", last - timedelta(days=29), last, None), ("7 days zero-shot", last - timedelta(days=6), last, "zero-shot")]
    env = {**os.environ, "DATABASE_URL": url}
    began = time.perf_counter()
    subprocess.run([str(Path(sys.executable).with_name("prompt-improver")), "stats"], env=env, check=True,
                   capture_output=True)
    print(f"fresh `prompt-improver stats` (loads the read model) : {time.perf_counter() - began:5.2f} s")
    with Analytics(url) as analytics, psycopg.connect(url) as conn:
        began = time.perf_counter()
        analytics.sync()
        print(f"read model load ({analytics.status()['rows']:,} rows): {time.perf_counter() - began:5.2f} s")
        duck = analytics._connection  # noqa: SLF001 - the same DuckDB, for the direct-attach comparison
        duck.execute(
            "CREATE OR REPLACE VIEW direct_records AS SELECT id, CAST(timestamp AS TIMESTAMP) AS ts, backend, "
            "confidence, quality, latency_ms FROM history.prompt_history"
        )
        for label, start, end, backend in cases:
            lo = start or date(1, 1, 1)
            hi = (end or date(9999, 12, 30)) + timedelta(days=1)
            extra = "AND backend = 'zero-shot'" if backend else ""
            ours = min(timed(lambda: analytics.statistics(start, end, backend=backend), 3))
            sql_s = min(timed(lambda: conn.execute(SQL_STATS.format(extra=extra), (lo, hi)).fetchall(), 3))
            direct_sql = (
                "SELECT backend, count(*), avg(confidence), avg(quality), avg(latency_ms), "
                "quantile_cont(latency_ms, [0.5, 0.95]) FROM direct_records WHERE ts >= ? AND ts < ? "
                f"{extra} GROUP BY ROLLUP (backend)"
            )
            direct_s = min(timed(lambda: duck.execute(direct_sql, [lo, hi]).fetchall(), 2))
            print(f"stats {label:<17}: read model {ours * 1e3:6.0f} ms vs the same SQL in PostgreSQL {sql_s * 1e3:6.0f} ms: "
                  f"{ours / sql_s:4.2f}x; direct through the attachment {direct_s * 1e3:6.0f} ms")
        began = time.perf_counter()
        page, total = analytics.history_page(None, None, limit=50)
        print(f"History page (50 of {total:,}, newest first): {(time.perf_counter() - began) * 1e3:6.0f} ms")
        with tempfile.TemporaryDirectory() as directory:
            began = time.perf_counter()
            exported = analytics.export_records(Path(directory) / "all.csv")
            print(f"CSV export {exported:,} rows: {exported / (time.perf_counter() - began):9,.0f} rows/s")


def bench_export(url: str, rounds: int = 3) -> None:
    """The CSV export of every record vs DuckDB's COPY of a native table holding the same records (medians of
    rounds that alternate the two), and whether the file is oldest first."""
    import csv
    import statistics

    from store.analytics.queries import date_range
    from store.analytics.reports import records_sql

    times: dict[str, list[float]] = {"ours": [], "baseline": []}
    with Analytics(url) as analytics, tempfile.TemporaryDirectory() as directory:
        analytics.sync()
        duck = analytics._connection  # noqa: SLF001 - the same DuckDB, for the baseline table
        with analytics._model.attached():  # noqa: SLF001
            sql, params = records_sql(duck, date_range(duck, None, None))
            duck.execute(f"CREATE OR REPLACE TABLE baseline AS {sql}", params)
        out = Path(directory) / "all.csv"
        for _ in range(rounds):
            os.sync()
            began = time.perf_counter()
            rows = analytics.export_records(out)
            times["ours"].append(time.perf_counter() - began)
            with out.open(encoding="utf-8", newline="") as handle:
                stamps = [row["timestamp"] for row in csv.DictReader(handle)]
            ordered = stamps == sorted(stamps)
            out.unlink()
            os.sync()
            began = time.perf_counter()
            duck.execute(f"COPY baseline TO '{out}' (FORMAT csv, HEADER)")
            times["baseline"].append(time.perf_counter() - began)
            out.unlink()
        duck.execute("DROP TABLE baseline")
    ours, base = (rows / statistics.median(times[name]) for name in ("ours", "baseline"))
    print(f"CSV export of {rows:,} records, median of {rounds}: {ours:,.0f} rows/s vs DuckDB's COPY of a native table "
          f"{base:,.0f} rows/s: {ours / base:.2f}x; oldest first: {ordered} (load {os.getloadavg()[0]:.1f})")


def bench_copy(admin_url: str, rows: int, directory: Path) -> None:
    path = directory / "source.db"
    migrate_sqlite(path)
    sample = list(history(rows, days=365, end=utc_now()))
    with SQLitePromptRepository(path) as source:
        source.save_many(sample)
        target = new_database(admin_url, "bench_copy")
        with PostgresPromptRepository(target) as destination:
            began = time.perf_counter()
            report = copy_history(source, destination)
            copy_s = time.perf_counter() - began
    baseline_url = new_database(admin_url, "bench_copy_baseline")
    with PostgresPromptRepository(baseline_url) as repo:
        began = time.perf_counter()
        repo.save_many(sample, batch_size=5_000)
        base_s = time.perf_counter() - began
    print(f"copy SQLite -> PostgreSQL : {report.copied / copy_s:9,.0f} rows/s ({report.copied:,} rows, {copy_s:5.1f} s) vs "
          f"save_many from memory {rows / base_s:9,.0f} rows/s: {base_s / copy_s:4.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--copy-rows", type=int, default=200_000)
    parser.add_argument("--url", help="an existing server's maintenance database (default: a throwaway cluster)")
    parser.add_argument("--search-only", action="store_true", help="only part 5, full-text search")
    parser.add_argument("--repeat", type=int, default=5, help="repeats of each search (medians)")
    parser.add_argument("--export-db", metavar="URL", help="only the CSV export, on this database's history "
                        "(e.g. DATABASE_URL=URL prompt-improver demo-data --rows 1000000 --days 365)")
    args = parser.parse_args()
    if args.export_db:
        bench_export(args.export_db)
        return
    cluster = None
    admin_url = args.url
    if admin_url is None:
        from tests.support.postgres import PostgresCluster, find_binary

        cluster = PostgresCluster(find_binary("initdb"), find_binary("pg_ctl"))
        cluster.init()
        cluster.start()
        admin_url = cluster.url()
    try:
        if args.search_only:
            bench_postgres_search.run_all(admin_url, args.rows, args.repeat)
            return
        bench_save(new_database(admin_url, "bench_save"), repeats=2_000)
        url = bench_bulk(admin_url, args.rows)
        bench_analytics(url)
        with tempfile.TemporaryDirectory() as directory:
            bench_copy(admin_url, args.copy_rows, Path(directory))
        bench_postgres_search.run_all(admin_url, args.rows, args.repeat)
    finally:
        if cluster is not None:
            cluster.remove()


if __name__ == "__main__":
    main()
