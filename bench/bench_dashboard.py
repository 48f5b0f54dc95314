"""How fast the Analytics page renders over 1M records: first render, cold cache, filter change, cached.

    python bench/bench_dashboard.py [--rows 1000000] [--days 365] [--repeat 3] [--db PATH]

The database is written by the demo generator (as `prompt-improver demo-data` does) in a child process (skipped when --db already
holds rows). The page is rendered with Streamlit's AppTest, i.e. the whole page script — widgets, the
cached query functions, the analytics worker's round trips and the Altair specs — minus the browser.
The baseline, measured in the same run, is one plain DuckDB aggregate over the SQLite file (ATTACH
READ_ONLY) in a fresh child process: what a single ad-hoc query costs without the dashboard's read model.
Targets (issue 5): cold cache ≤ 2 s, filter change ≤ 0.5 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

APP = ROOT / "dashboard" / "app.py"
# What `prompt-improver demo-data` does, in a child process (this process must not hold the file open
# through sqlite3 while the baseline and the worker read it through DuckDB).
GENERATE = """
import sys
from prompt_improver.settings import load_settings
from prompt_improver.wiring import open_repository
from prompt_improver.demo import generate_demo_records
repo = open_repository(load_settings(sqlite_db_path=sys.argv[1]))
repo.save_many(generate_demo_records(int(sys.argv[2]), days=int(sys.argv[3]), seed=0))
"""
BASELINE = """
import sys, time
start = time.perf_counter()
from store.analytics.extension import connect_duckdb
con = connect_duckdb()  # DuckDB with the sqlite extension loaded from the pinned wheel
con.execute(f"ATTACH '{sys.argv[1]}' AS h (TYPE sqlite, READ_ONLY)")
loaded = time.perf_counter()
con.execute(
    "SELECT backend, count(*), avg(confidence), avg(quality), quantile_cont(latency_ms, 0.5), "
    "quantile_cont(latency_ms, 0.95) FROM h.prompt_history WHERE timestamp >= ? GROUP BY backend",
    [sys.argv[2]],
).fetchall()
done = time.perf_counter()
print(f"{loaded - start:.4f} {done - loaded:.4f}")
"""


def _rows(db: Path) -> int:
    import sqlite3
    from contextlib import closing

    if not db.exists():
        return 0
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn, conn:
        try:
            return conn.execute("SELECT count(*) FROM prompt_history").fetchone()[0]
        except sqlite3.Error:
            return 0


def _generate(db: Path, rows: int, days: int) -> None:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", GENERATE, str(db), str(rows), str(days)], check=True, cwd=ROOT)
    print(f"generated {rows:,} rows in {time.perf_counter() - started:.1f} s")


def _baseline(db: Path) -> float:
    from datetime import datetime, timedelta, timezone

    since = (datetime.now(timezone.utc) - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
    out = subprocess.run(
        [sys.executable, "-c", BASELINE, str(db), since], check=True, capture_output=True, text=True, cwd=ROOT
    )
    load_s, query_s = (float(part) for part in out.stdout.split())
    return query_s


def _timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--db", type=Path, default=None)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-dashboard-"))
    db = args.db or work / "bench.db"
    if _rows(db) == 0:
        _generate(db, args.rows, args.days)
    rows = _rows(db)
    baseline = statistics.median(_baseline(db) for _ in range(args.repeat))

    import streamlit as st
    from streamlit.testing.v1 import AppTest

    os.environ["SQLITE_DB_PATH"] = str(db)
    os.chdir(work)
    at = AppTest.from_file(str(APP), default_timeout=600).run()
    at.switch_page("views/analytics.py")
    first = _timed(at.run)  # a restarted dashboard: worker process start and read-model build included
    assert not at.exception, at.exception

    cold, cached = [], []
    change: dict[str, list[float]] = {preset: [] for preset in ("7d", "90d", "365d")}
    control = lambda: at.segmented_control(key="analytics_range")  # noqa: E731
    for _ in range(args.repeat):
        control().set_value("30d")
        at.run()
        st.cache_data.clear()  # cold cache, warm worker: what a session sees after the TTL expired
        cold.append(_timed(at.run))
        for preset, times in change.items():
            st.cache_data.clear()  # a filter never asked for before: every query of the page misses the cache
            control().set_value(preset)
            times.append(_timed(at.run))
            control().set_value("30d")
            at.run()
        for preset in ("7d", "90d", "365d", "30d"):  # back and forth between filters already seen
            control().set_value(preset)
            cached.append(_timed(at.run))
        assert not at.exception, at.exception
    st.cache_resource.clear()  # closes the analytics worker

    def line(name: str, seconds: float, target: float | None) -> None:
        verdict = "" if target is None else ("  ok" if seconds <= target else "  over target")
        goal = f"(target ≤ {target:.1f} s)" if target is not None else ""
        print(f"{name:<46} {seconds * 1000:8.0f} ms {seconds / baseline:6.2f}× baseline  {goal}{verdict}")

    print(f"\nAnalytics page over {rows:,} records (median of {args.repeat}), {os.cpu_count()} cores")
    line("baseline: one plain DuckDB aggregate (30 d)", baseline, None)
    line("first render (worker start + read-model load)", first, None)
    line("cold cache, warm worker (30 d)", statistics.median(cold), 2.0)
    for preset, times in change.items():
        line(f"filter change to an uncached {preset}", statistics.median(times), 0.5)
    line("filter change to a cached view", statistics.median(cached), 0.5)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
