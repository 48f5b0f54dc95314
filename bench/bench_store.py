"""Benchmark of the SQLite store against raw sqlite3 baselines measured in the same run.

    /work/venv/bin/python bench/bench_store.py [--rows 100000] [--delete-rows 1000000] [--dir DIR]

On a `--rows` database: `save` (median, p99) vs a raw INSERT+COMMIT of the same row on an open
connection (target <= 10x); `save_many` vs raw `executemany` (target >= 0.5x the raw throughput);
`get` and `find_recent(100)` vs the same SELECT on an open connection. Then `delete_older_than`
removing ~90% of a `--delete-rows` database (target <= 3 s), by the strategy the repository picks and by
a plain DELETE for comparison, with the WAL size after each. `--delete-rows 0` skips that part.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from store.sqlite.migrations import migrate
from store.record import BackendType, PromptHistory
from store.sqlite.connection import INSERT_SQL, SELECT_SQL, record_to_row
from store.sqlite.repository import SQLitePromptRepository
from store.timestamps import utc_now

PROMPT = (
    "You are a senior technical writer. Using the RTF framework, write a concise, friendly product "
    "announcement for B2B developers: state the problem, the new capability and one code sample. "
) * 3


def record(moment: datetime, n: int) -> PromptHistory:
    return PromptHistory(
        original_idea=f"Announce feature number {n} to our developer community",
        context="B2B developers",
        improved_prompt=PROMPT,
        role="Technical writer",
        directive="Write an announcement",
        framework="RTF",
        guardrails=("Under 200 words", "No unverifiable claims", "One code sample"),
        backend=BackendType.FEW_SHOT if n % 3 else BackendType.ZERO_SHOT,
        confidence=0.5 + (n % 50) / 100,
        reasoning="The idea names an audience and a product.",
        latency_ms=800.0 + n % 400,
        model_version="bench",
        timestamp=moment,
    )


def history(rows: int, *, days: float, end: datetime) -> Iterator[PromptHistory]:
    """`rows` records spread evenly over the `days` days before `end`, oldest first."""
    step = timedelta(days=days) / rows
    start = end - timedelta(days=days)
    return (record(start + step * n, n) for n in range(rows))


def timed(operation: Callable[[], object], repeats: int) -> list[float]:
    samples = []
    for _ in range(repeats):
        began = time.perf_counter()
        operation()
        samples.append(time.perf_counter() - began)
    return samples


def median_p99(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def raw_connection(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


def fresh(template: Path, name: str) -> Path:
    copy = template.with_name(name)
    shutil.copyfile(template, copy)
    return copy


def bench_small(directory: Path, rows: int, repeats: int) -> list[tuple]:
    base = directory / "bench.db"
    migrate(base)
    now = utc_now()
    with SQLitePromptRepository(base) as builder:
        builder.save_many(history(rows, days=60, end=now))
    # Raw and store writes go to two copies of the same file, in alternating blocks, so neither side
    # meets a file the other has grown or a cache the other has warmed.
    raw_path, ours_path = fresh(base, "raw.db"), fresh(base, "ours.db")
    os.sync()
    repo = SQLitePromptRepository(ours_path)
    results = []

    # save vs raw INSERT+COMMIT of the same row on an open connection. The raw connection is closed
    # between blocks, so the store meets its file as an app does (no other connection holding it).
    samples = [replace(record(now, n), uid=uuid.uuid4().hex) for n in range(repeats)]
    raw_samples: list[float] = []
    ours_samples: list[float] = []
    block = max(1, repeats // 8)
    for start in range(0, repeats, block):
        chunk = samples[start : start + block]
        with closing(raw_connection(raw_path)) as conn:
            rows_iter = iter([record_to_row(r) for r in chunk])

            def raw_save() -> None:
                conn.execute("BEGIN")
                conn.execute(INSERT_SQL, next(rows_iter))
                conn.execute("COMMIT")

            raw_samples += timed(raw_save, len(chunk))
        chunk_iter = iter(chunk)
        ours_samples += timed(lambda: repo.save(next(chunk_iter)), len(chunk))
    raw, ours = median_p99(raw_samples), median_p99(ours_samples)
    results.append(("save (median)", ours[0], raw[0], "<= 10x"))
    results.append(("save (p99)", ours[1], raw[1], "<= 10x"))
    repo.close()
    no_keeper = SQLitePromptRepository(ours_path, wal=False)  # wal=False: no connection keeps the WAL open
    few = [replace(record(now, n), uid=uuid.uuid4().hex) for n in range(min(repeats, 200))]
    few_iter = iter(few)
    unkept = median_p99(timed(lambda: no_keeper.save(next(few_iter)), len(few)))
    # Since the per-thread connections, the thread's own connection holds the WAL open as well.
    results.append(("save without the WAL keeper (median)", unkept[0], raw[0], "(thread conn holds WAL)"))

    # save_many vs raw executemany of the same rows, batches of 10,000, alternating
    bulk, batch = 50_000, 10_000
    bulk_records = [replace(r, uid=uuid.uuid4().hex) for r in history(bulk, days=1, end=now)]
    raw_bulk = ours_bulk = 0.0
    for start in range(0, bulk, batch):
        chunk = bulk_records[start : start + batch]
        raw_rows = [record_to_row(r) for r in chunk]  # the raw side gets its rows ready-made
        with closing(raw_connection(raw_path)) as conn:
            began = time.perf_counter()
            conn.execute("BEGIN")
            conn.executemany(INSERT_SQL, raw_rows)
            conn.execute("COMMIT")
            raw_bulk += time.perf_counter() - began
        began = time.perf_counter()
        repo.save_many(chunk, batch_size=batch)
        ours_bulk += time.perf_counter() - began
    results.append((f"save_many {bulk:,} rows (s)", ours_bulk, raw_bulk, ">= 0.5x throughput"))

    # get and find_recent(100) vs the same SELECT on an open connection
    ids = [random.randint(1, rows) for _ in range(repeats)]
    with closing(raw_connection(ours_path)) as conn:
        id_iter = iter(ids)
        raw_get = median_p99(timed(lambda: conn.execute(SELECT_SQL + " WHERE id = ?", (next(id_iter),)).fetchone(), repeats))
        raw_recent = median_p99(timed(
            lambda: conn.execute(SELECT_SQL + " ORDER BY timestamp DESC, id DESC LIMIT 100").fetchall(), 200
        ))
    id_iter = iter(ids)
    ours_get = median_p99(timed(lambda: repo.get(next(id_iter)), repeats))
    ours_recent = median_p99(timed(lambda: repo.find_recent(100), 200))
    results.append(("get (median)", ours_get[0], raw_get[0], "-"))
    results.append(("find_recent(100) (median)", ours_recent[0], raw_recent[0], "-"))
    repo.close()
    return results


def bench_delete(directory: Path, rows: int) -> list[tuple]:
    template = directory / "delete-template.db"
    migrate(template)
    now = utc_now()
    # 100 days of history: deleting everything older than 10 days removes ~90% of the rows.
    with SQLitePromptRepository(template) as repo:
        began = time.perf_counter()
        repo.save_many(history(rows, days=100, end=now))
        print(f"  built a {rows:,}-row database in {time.perf_counter() - began:.1f} s "
              f"({template.stat().st_size / 1e6:.0f} MB)")
    results = []
    for label, fraction in (("delete_older_than ~90%", None), ("plain DELETE ~90% (for comparison)", 1.5)):
        path = fresh(template, f"delete-{'auto' if fraction is None else 'plain'}.db")
        os.sync()  # the copy's dirty pages would otherwise be flushed during the measurement
        repo = SQLitePromptRepository(path)
        options = {} if fraction is None else {"rebuild_fraction": fraction}
        before = resource.getrusage(resource.RUSAGE_SELF)
        began = time.perf_counter()
        deleted = repo.delete_older_than(10, **options)
        seconds = time.perf_counter() - began
        after = resource.getrusage(resource.RUSAGE_SELF)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        health = repo.health()
        results.append((label, seconds, cpu, deleted, health.wal_bytes, health.row_count, health.quick_check))
        repo.close()
        path.unlink()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--delete-rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=2_000)
    parser.add_argument("--dir", type=Path, default=None, help="work directory (default: a temporary one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="bench-store-") as work:
        directory = Path(work)
        print(f"SQLite {sqlite3.sqlite_version}; {args.rows:,}-row database; {args.repeats:,} repeats")
        small = bench_small(directory, args.rows, args.repeats)
        print()
        print(f"| {'operation':<38} | {'store':>11} | {'raw sqlite3':>11} | {'ratio':>7} | target |")
        print(f"|{'-' * 40}|{'-' * 13}|{'-' * 13}|{'-' * 9}|--------|")
        for name, ours, raw, target in small:
            unit, scale = ("s", 1) if name.endswith("(s)") else ("µs", 1e6)
            ratio = (raw / ours) if "throughput" in target else (ours / raw)
            label = "x thr." if "throughput" in target else "x"
            print(f"| {name:<38} | {ours * scale:>8.1f} {unit:<2} | {raw * scale:>8.1f} {unit:<2} | "
                  f"{ratio:>5.2f}{label:<2}| {target} |")
        if args.delete_rows:
            print()
            print(f"delete on a {args.delete_rows:,}-row database:")
            for label, seconds, cpu, deleted, wal_bytes, remaining, check in bench_delete(directory, args.delete_rows):
                print(f"  {label:<36} {seconds:6.2f} s wall ({cpu:.2f} s CPU)  deleted {deleted:,}, left "
                      f"{remaining:,}, WAL after {wal_bytes / 1e6:.1f} MB, quick_check {check}  (target <= 3 s)")
            print(f"  load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
