"""Issue 12 on a million records, in one run: search, the first page without a snapshot, export.

    python bench/bench_million.py --db PATH [--repeat 5]

PATH is a history made with `prompt-improver demo-data --rows 1000000 --days 365 --db PATH` (about six
minutes with the search index maintained by its triggers on this machine). This process touches the file
only through DuckDB; the one write (marking the index incomplete to time the old substring scan, then
restoring it) runs in a subprocess with `sqlite3`.

Printed, with the load average beside them (the machine is shared):
- History search over 365 days, two-word queries: the FTS index (newest first, and best match first) vs
  the substring scan it replaces (same page, same filters), medians of --repeat;
- the first Analytics page through a fresh worker without an on-disk snapshot (target <= 3 s), with the
  worker's CPU seconds (the figure the load does not inflate);
- export rows/s: ours (CSV in one COPY, CSV with progress in chunks, Parquet) vs DuckDB's COPY of a native
  table holding the same records to CSV (target ours >= 0.8x and >= 150k rows/s at load <= 1).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

QUERIES = ("rate limiter", "newsletter subscribers")
SET_MARKS = r"""
import sqlite3, sys
from contextlib import closing
with closing(sqlite3.connect(sys.argv[1])) as conn, conn:
    conn.execute("UPDATE app_settings SET value = ? WHERE key = 'search_backfill_done'", (sys.argv[2],))
    conn.execute("UPDATE app_settings SET value = ? WHERE key = 'search_backfill_end'", (sys.argv[3],))
"""
READ_MARKS = r"""
import sqlite3, sys
from contextlib import closing
with closing(sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)) as conn:
    print(*conn.execute("SELECT (SELECT value FROM app_settings WHERE key = 'search_backfill_done'), "
                        "(SELECT value FROM app_settings WHERE key = 'search_backfill_end'), "
                        "(SELECT max(id) FROM prompt_history)").fetchone())
"""


def load() -> str:
    return "load %.1f" % os.getloadavg()[0]


def median_s(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def first_page(db: Path) -> tuple[float, float]:
    """(wall seconds, the worker's CPU seconds) from a fresh worker to the first Analytics page's answers."""
    from store.analytics.worker import AnalyticsWorker

    db.with_name(db.name + ".analytics.duckdb").unlink(missing_ok=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with AnalyticsWorker(db, snapshot_min_rows=None) as worker:
        worker.model_distribution(None, None)
        end = date.fromisoformat(worker.kpis()["end"])
        worker.kpis(end - timedelta(days=29), end)
        worker.analytics_page(end - timedelta(days=29), end, top_limit=8, with_kpis=False)
        elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the worker has exited and been waited for
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def search(db: Path, repeat: int) -> None:
    from store.analytics.engine import Analytics

    done, end, max_id = subprocess.run([sys.executable, "-c", READ_MARKS, str(db)], capture_output=True, text=True,
                                       check=True).stdout.split()
    with Analytics(db, snapshot_min_rows=None) as analytics:
        analytics.sync()
        last = date.fromisoformat(analytics.kpis()["end"])
        start = last - timedelta(days=364)
        timings = {}
        for query in QUERIES:
            for order in ("time", "relevance"):
                total = analytics.history_page(start, last, text=query, order=order)[1]
                timings[(query, order)] = (median_s(lambda: analytics.history_page(
                    start, last, text=query, order=order), repeat), total)
        subprocess.run([sys.executable, "-c", SET_MARKS, str(db), "0", max_id], check=True)  # "not indexed yet"
        try:
            for query in QUERIES:
                total = analytics.history_page(start, last, text=query)[1]
                timings[(query, "scan")] = (median_s(lambda: analytics.history_page(start, last, text=query),
                                                     repeat), total)
        finally:
            subprocess.run([sys.executable, "-c", SET_MARKS, str(db), done, end], check=True)
    print(f"\nHistory search, 365 days ({start} to {last}), page of 50, median of {repeat} ({load()})")
    print("| query | FTS newest first ms | FTS best match ms | substring scan ms | scan / FTS |")
    print("|---|---:|---:|---:|---:|")
    for query in QUERIES:
        (fts, n), (rel, _), (scan, scan_n) = (timings[(query, o)] for o in ("time", "relevance", "scan"))
        print(f"| {query} ({n:,} found; scan {scan_n:,}) | {fts * 1000:.0f} | {rel * 1000:.0f} | "
              f"{scan * 1000:.0f} | {scan / fts:.1f}x |")


def export(db: Path, out_dir: Path) -> None:
    from store.analytics.engine import Analytics
    from store.analytics.reports import records_sql

    results = []
    with Analytics(db, snapshot_min_rows=None) as analytics:
        analytics.sync()
        for label, suffix, kwargs in (("ours CSV (one COPY)", "csv", {}),
                                      ("ours CSV with progress (as the CLI)", "csv", {"progress": lambda *_: None}),
                                      ("ours Parquet", "parquet", {"file_format": "parquet"})):
            out = out_dir / f"bench_million_export.{suffix}"
            started = time.perf_counter()
            rows = analytics.export_records(out, **kwargs)
            elapsed = time.perf_counter() - started
            results.append((label, rows, elapsed, out.stat().st_size / 1e6, load()))
            out.unlink()
        con = analytics._connection  # the baseline: the same records as a native DuckDB table
        with analytics._model.attached():
            from store.analytics.queries import date_range

            sql, params = records_sql(con, date_range(con, None, None))
            con.execute(f"CREATE OR REPLACE TABLE baseline AS {sql}", params)
        out = out_dir / "bench_million_baseline.csv"
        started = time.perf_counter()
        (rows,) = con.execute(f"COPY baseline TO '{out}' (FORMAT csv, HEADER)").fetchone()
        elapsed = time.perf_counter() - started
        results.append(("baseline: COPY native table to CSV", rows, elapsed, out.stat().st_size / 1e6, load()))
        out.unlink()
        con.execute("DROP TABLE baseline")
    base = results[-1][1] / results[-1][2]
    print("\nExport of every record")
    print("| export | rows | s | rows/s | vs baseline | MB | load |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for label, rows, elapsed, mb, shown_load in results:
        print(f"| {label} | {rows:,} | {elapsed:.1f} | {rows / elapsed:,.0f} | {rows / elapsed / base:.2f}x | "
              f"{mb:,.0f} | {shown_load} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"{args.db}: {args.db.stat().st_size / 1e9:.2f} GB ({load()})")
    search(args.db, args.repeat)
    wall, cpu = first_page(args.db)
    print(f"\nFirst Analytics page, fresh worker, no snapshot: {wall:.1f} s, worker CPU {cpu:.1f} s ({load()})")
    export(args.db, args.db.parent)
    return 0


if __name__ == "__main__":
    sys.exit(main())
