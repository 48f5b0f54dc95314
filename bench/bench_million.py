"""Issue 12 on a million records, in one run: search, the first page without a snapshot, export.

    python bench/bench_million.py --db PATH [--repeat 5] [--export-rounds 3] [--only search|first-page|export ...]

PATH is a history made with `prompt-improver demo-data --rows 1000000 --days 365 --db PATH` (about six
minutes with the search index maintained by its triggers on this machine). This process touches the file
only through DuckDB; the one write (marking the index incomplete to time the old substring scan, then
restoring it) runs in a subprocess with `sqlite3`.

Printed, with the load average beside them (the machine is shared):
- History search over 365 days, two-word queries: the FTS index (newest first, and best match first) vs
  the substring scan it replaces (same page, same filters), medians of --repeat;
- the first Analytics page through a fresh worker without an on-disk snapshot (target <= 3 s), with the
  worker's CPU seconds (the figure the load does not inflate);
- export rows/s: ours (CSV in parts written in parallel, the same with progress as the CLI runs it, the same
  in one COPY as before the parts, Parquet) vs DuckDB's COPY of a native table holding the same records to
  CSV (target ours >= 0.8x and >= 150k rows/s at load <= 1). Each export starts after `os.sync()`.
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


def export(db: Path, out_dir: Path, rounds: int) -> None:
    from store.analytics.engine import Analytics
    from store.analytics.queries import date_range
    from store.analytics.reports import records_sql

    variants = (("ours CSV (parts in parallel)", "csv", {}),
                ("ours CSV with progress (as the CLI)", "csv", {"progress": lambda *_: None}),
                ("ours CSV in one COPY (as before the parts)", "csv", {"rows_per_part": 10**9}),
                ("ours Parquet", "parquet", {"file_format": "parquet"}),
                ("baseline: COPY native table to CSV", "csv", None))
    times: dict[str, list[float]] = {label: [] for label, *_ in variants}
    sizes, counts, loads = {}, {}, []
    with Analytics(db, snapshot_min_rows=None) as analytics:
        analytics.sync()
        con = analytics._connection  # the baseline: the same records as a native DuckDB table
        with analytics._model.attached():
            sql, params = records_sql(con, date_range(con, None, None))
            con.execute(f"CREATE OR REPLACE TABLE baseline AS {sql}", params)
        for _ in range(rounds):  # rounds alternate the variants, so a change of load reaches them all alike
            for label, suffix, kwargs in variants:
                out = out_dir / f"bench_million_export.{suffix}"
                os.sync()  # each export starts with no other export's pages waiting to be written
                started = time.perf_counter()
                if kwargs is None:
                    (rows,) = con.execute(f"COPY baseline TO '{out}' (FORMAT csv, HEADER)").fetchone()
                else:
                    rows = analytics.export_records(out, **kwargs)
                times[label].append(time.perf_counter() - started)
                sizes[label], counts[label] = out.stat().st_size / 1e6, rows
                out.unlink()
            loads.append(load())
        con.execute("DROP TABLE baseline")
    median = {label: statistics.median(values) for label, values in times.items()}
    base = counts[variants[-1][0]] / median[variants[-1][0]]
    print(f"\nExport of every record, median of {rounds} rounds ({', '.join(loads)})")
    print("| export | rows | median s | rows/s | vs baseline | MB |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, *_ in variants:
        per_s = counts[label] / median[label]
        print(f"| {label} | {counts[label]:,} | {median[label]:.1f} | {per_s:,.0f} | {per_s / base:.2f}x | "
              f"{sizes[label]:,.0f} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--export-rounds", type=int, default=3)
    parser.add_argument("--only", choices=("search", "first-page", "export"), action="append",
                        help="run only this part (repeatable); default: all three")
    args = parser.parse_args()
    only = set(args.only or ("search", "first-page", "export"))
    print(f"{args.db}: {args.db.stat().st_size / 1e9:.2f} GB ({load()})")
    if "search" in only:
        search(args.db, args.repeat)
    if "first-page" in only:
        wall, cpu = first_page(args.db)
        print(f"\nFirst Analytics page, fresh worker, no snapshot: {wall:.1f} s, worker CPU {cpu:.1f} s ({load()})")
    if "export" in only:
        export(args.db, args.db.parent, args.export_rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
