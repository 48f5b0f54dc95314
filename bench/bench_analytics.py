"""Analytics benchmark on a large history: ratios against baselines measured in the same run.

    python bench/bench_analytics.py [--rows 1000000] [--days 365] [--repeat 3] [--db PATH]

The history is generated once with `prompt-improver demo-data` into a cache under /tmp and reused. This
process only ever touches the file through DuckDB; the `pandas.read_sql` baseline and the one-row
insert run in subprocesses (two copies of SQLite in one process must never share a file).

Printed per query and range (30 and 365 days, ending at the last record):
- ours: `Analytics` in-process, including the freshness sync each call does (median of --repeat);
- native: the same SQL over a native DuckDB table holding the same rows (target: ours <= 3x native);
- pandas: `pandas.read_sql` of the range plus groupby, in a separate process (target: >= 5x slower);
and the costs a user feels: a fresh `prompt-improver stats` process (until its answer, and until it
exits), a fresh worker's first Analytics page (with and without the on-disk snapshot; the page's calls:
the model list, the KPIs and `analytics_page`), a filter change through the worker, the incremental
sync after one new row, and CSV export throughput (target >= 150k rows/s).
"""

from __future__ import annotations

import argparse
import json
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

CACHE = Path("/tmp/prompt-improver-bench")
QUERIES = ("kpis", "timeseries", "backend_distribution", "model_distribution", "histograms", "top_frameworks", "top_roles")


PANDAS_BASELINE = r"""
import json, sqlite3, sys, time
import numpy as np
import pandas as pd
path, ranges, repeat = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
COLS = "timestamp, backend, model_version, framework, role, confidence, quality, latency_ms"

def frame(lo, hi):
    df = pd.read_sql(f"SELECT {COLS} FROM prompt_history WHERE timestamp >= ? AND timestamp < ?", conn, params=(lo, hi))
    df["timestamp"] = pd.to_datetime(df["timestamp"], format="ISO8601", utc=True)
    return df

def metrics(g):
    return g.agg(count=("backend", "size"), conf=("confidence", "mean"), quality=("quality", "mean"),
                 p50=("latency_ms", lambda s: s.quantile(0.5)), p95=("latency_ms", lambda s: s.quantile(0.95)))

def kpis(r):
    df = frame(r["prev_lo"], r["hi"])
    lo = pd.Timestamp(r["lo"], tz="UTC")
    cur, prev = df[df["timestamp"] >= lo], df[df["timestamp"] < lo]
    return [metrics(part.groupby("backend")) for part in (cur, prev)] + [part["latency_ms"].quantile([.5, .95]) for part in (cur, prev)]

def timeseries(r):
    df = frame(r["lo"], r["hi"])
    return metrics(df.groupby([pd.Grouper(key="timestamp", freq=r["freq"]), "backend"]))

def counts(column):
    return lambda r: frame(r["lo"], r["hi"])[column].value_counts(normalize=False)

def histograms(r):
    df = frame(r["lo"], r["hi"])
    out = {}
    for metric in ("confidence", "quality", "latency_ms"):
        for backend, part in df.groupby("backend"):
            values = part[metric].dropna().to_numpy()
            edges = np.geomspace(max(values.min(), 1), values.max(), 21) if metric == "latency_ms" else np.linspace(0, 1, 21)
            out[(metric, backend)] = np.histogram(values, bins=edges)
    return out

def top(column):
    return lambda r: frame(r["lo"], r["hi"]).query(f"{column} != ''")[column].value_counts().head(10)

FUNCS = {"kpis": kpis, "timeseries": timeseries, "backend_distribution": counts("backend"),
         "model_distribution": counts("model_version"), "histograms": histograms,
         "top_frameworks": top("framework"), "top_roles": top("role")}
result = {}
for label, r in ranges.items():
    for name, fn in FUNCS.items():
        times = []
        for _ in range(repeat):
            t = time.perf_counter(); fn(r); times.append(time.perf_counter() - t)
        result[f"{name}|{label}"] = sorted(times)[len(times) // 2]
conn.close()
print(json.dumps(result))
"""

INSERT_ONE = r"""
import sqlite3, sys, uuid
conn = sqlite3.connect(sys.argv[1], timeout=10, isolation_level=None)
conn.execute(
    "INSERT INTO prompt_history (uid, timestamp, original_idea, improved_prompt, backend, confidence, latency_ms) "
    "VALUES (?, ?, 'bench idea', 'bench prompt', 'few-shot', 0.5, 1000.0)",
    (uuid.uuid4().hex, sys.argv[2]),
)
conn.close()
"""


def ensure_history(path: Path, rows: int, days: int) -> None:
    if path.exists():
        return
    print(f"generating {rows:,} rows over {days} days into {path} (once) ...", flush=True)
    started = time.perf_counter()
    cli = Path(sys.executable).with_name("prompt-improver")
    subprocess.run([str(cli), "demo-data", "--rows", str(rows), "--days", str(days), "--db", str(path)], check=True)
    print(f"  generated in {time.perf_counter() - started:.0f} s", flush=True)


def timed(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def fresh_process(args: list[str]) -> tuple[float, float, float]:
    """Wall seconds to exit, CPU seconds (user + sys), and wall seconds until the answer's first byte
    arrived on stdout (`stats` prints its answer, then refreshes the on-disk snapshot before exiting)."""
    started, cpu = time.perf_counter(), children_cpu()
    with subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as process:
        process.stdout.read(1)
        answered = time.perf_counter() - started
        process.stdout.read()
        if process.wait() != 0:
            raise SystemExit(f"{args} failed with exit code {process.returncode}")
    return time.perf_counter() - started, children_cpu() - cpu, answered


def page(worker, start, end, backend=None) -> None:
    """What the dashboard's Analytics page asks for one view: the KPIs, then every chart in one call."""
    worker.kpis(start, end, backend=backend)
    worker.analytics_page(start, end, backend=backend, top_limit=8, with_kpis=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--db", type=Path, help="an existing history to use instead of the cache")
    args = parser.parse_args()
    db = args.db or CACHE / f"analytics_{args.rows}.db"
    ensure_history(db, args.rows, args.days)
    snapshot = db.with_name(db.name + ".analytics.duckdb")

    import duckdb

    from store.analytics import histograms as analytics_histograms
    from store.analytics import queries as analytics_queries
    from store.analytics.engine import Analytics
    from store.analytics.worker import AnalyticsWorker
    from store.analytics.extension import connect_duckdb
    from store.analytics.read_model import ReadModel

    functions = {name: getattr(analytics_queries, name, None) or getattr(analytics_histograms, name) for name in QUERIES}
    cli = str(Path(sys.executable).with_name("prompt-improver"))
    report: dict[str, object] = {"rows": args.rows}

    # 1. What a fresh process pays: `prompt-improver stats`, and a fresh worker's first Analytics page.
    snapshot.unlink(missing_ok=True)
    report["load_average_at_start"] = os.getloadavg()[0]
    wall, cpu, answered = fresh_process([cli, "stats", "--db", str(db), "--json"])
    report["stats_fresh_no_snapshot_s"], report["stats_fresh_no_snapshot_cpu_s"] = wall, cpu
    report["stats_fresh_no_snapshot_answer_s"] = answered
    walls, cpus, answers = zip(*(fresh_process([cli, "stats", "--db", str(db), "--json"]) for _ in range(args.repeat)))
    report["stats_fresh_with_snapshot_s"] = statistics.median(walls)
    report["stats_fresh_with_snapshot_cpu_s"] = statistics.median(cpus)
    report["stats_fresh_with_snapshot_answer_s"] = statistics.median(answers)

    with Analytics(db) as analytics:
        last = date.fromisoformat(analytics.kpis()["end"])
    ranges = {
        f"{days}d": (last - timedelta(days=days - 1), last) for days in (30, 365)
    }

    def first_page(use_snapshot: bool) -> float:
        if not use_snapshot:
            snapshot.unlink(missing_ok=True)
        start, end = ranges["30d"]
        started, cpu = time.perf_counter(), children_cpu()
        with AnalyticsWorker(db, snapshot_min_rows=50_000 if use_snapshot else None) as worker:
            worker.model_distribution(None, None)  # the model filter's choices
            page(worker, start, end)
            elapsed = time.perf_counter() - started
            changes = []
            for label in ("365d", "30d", "365d"):
                s, e = ranges[label]
                t = time.perf_counter()
                page(worker, s, e, backend="few-shot")
                changes.append(time.perf_counter() - t)
        report["filter_change_s"] = max(report.get("filter_change_s", 0.0), statistics.median(changes))
        report[f"worker_process_cpu_s_{'with' if use_snapshot else 'no'}_snapshot"] = children_cpu() - cpu
        return elapsed

    report["worker_first_page_no_snapshot_s"] = first_page(False)
    with Analytics(db) as analytics:  # leaves a fresh snapshot behind
        analytics.sync()
        analytics.housekeeping()
    report["worker_first_page_with_snapshot_s"] = first_page(True)

    # 2. Each query: ours (sync included) vs the same SQL on a native table.
    native = connect_duckdb()
    ReadModel(native, db, snapshot_min_rows=None).sync()  # a plain native table, never synced again
    rows: list[tuple] = []
    with Analytics(db) as analytics:
        analytics.sync()
        for label, (start, end) in ranges.items():
            for name in QUERIES:
                ours = timed(lambda: getattr(analytics, name)(start, end), args.repeat)
                base = timed(lambda: functions[name](native, start, end), args.repeat)
                rows.append((name, label, ours, base))
            ours = timed(lambda: analytics.history_page(start, end, limit=50), args.repeat)
            rows.append(("history_page", label, ours, None))
            ours = timed(lambda: analytics.history_page(start, end, text="customer", limit=50), args.repeat)
            rows.append(("history_page+text", label, ours, None))
        # 3. Incremental sync after one new row (written by another process), and an unchanged sync.
        unchanged = timed(analytics.sync, args.repeat)
        appends = []
        for _ in range(args.repeat):
            subprocess.run([sys.executable, "-c", INSERT_ONE, str(db), f"{last.isoformat()}T12:00:00.000000+00:00"], check=True)
            started = time.perf_counter()
            result = analytics.sync()
            appends.append(time.perf_counter() - started)
            assert result.mode == "append" and result.added == 1, result
        report["sync_unchanged_ms"] = unchanged * 1000
        report["sync_after_one_row_ms"] = statistics.median(appends) * 1000
        # 4. Export throughput.
        out = CACHE / "bench_export.csv"
        started, cpu = time.perf_counter(), own_cpu()
        exported = analytics.export_records(out, *ranges["365d"])
        elapsed, cpu = time.perf_counter() - started, own_cpu() - cpu
        report["export_rows"] = exported
        report["export_rows_per_s"] = exported / elapsed
        report["export_rows_per_cpu_s"] = exported / cpu
        report["export_mb"] = out.stat().st_size / 1e6
        out.unlink()
    native.close()

    # 5. The pandas baseline, in its own process.
    pandas_ranges = {
        label: {
            "lo": f"{s.isoformat()}T00:00:00", "hi": f"{(e + timedelta(days=1)).isoformat()}T00:00:00",
            "prev_lo": f"{(s - (e - s) - timedelta(days=1)).isoformat()}T00:00:00",
            "freq": "D" if label == "30d" else "W-MON",
        }
        for label, (s, e) in ranges.items()
    }
    completed = subprocess.run(
        [sys.executable, "-c", PANDAS_BASELINE, str(db), json.dumps(pandas_ranges), str(max(1, args.repeat // 2))],
        capture_output=True, text=True,
    )
    if completed.returncode != 0:
        raise SystemExit(f"the pandas baseline failed:\n{completed.stderr}")
    pandas_times = json.loads(completed.stdout)

    print(f"\nAnalytics benchmark: {args.rows:,} rows, DuckDB {duckdb.__version__}, medians of {args.repeat}\n")
    print("| query | range | ours ms | native ms | ours/native (<=3) | pandas ms | pandas/ours (>=5) |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for name, label, ours, base in rows:
        pandas_s = pandas_times.get(f"{name}|{label}")
        native_cell = f"{base * 1000:.1f} | {ours / base:.1f}x" if base else "- | -"
        pandas_cell = f"{pandas_s * 1000:.0f} | {pandas_s / ours:.0f}x" if pandas_s else "- | -"
        print(f"| {name} | {label} | {ours * 1000:.1f} | {native_cell} | {pandas_cell} |")
    report["load_average_at_end"] = os.getloadavg()[0]
    print()
    for key, value in report.items():
        print(f"{key:36} {value:,.3f}" if isinstance(value, float) else f"{key:36} {value:,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
