"""How long `prompt-improver demo-data --rows 1000000` takes, against raw `executemany` in the same run.

    /work/venv/bin/python bench/bench_demo_data.py [--rows 1000000]

Three measurements, each on a fresh migrated database in a temporary directory:
1. generation only: `generate_demo_records` streamed and dropped (then, untimed, generated again and
   turned into INSERT tuples for step 2);
2. baseline: raw sqlite3 `executemany` of those pre-built tuples, 10,000 rows per transaction, on one
   open connection with the store's pragmas (WAL, synchronous=NORMAL) and the same table and indexes;
3. the real command as a user runs it, in a subprocess (`prompt-improver demo-data`), wall time.
Prints absolute seconds (wall and CPU, and the load average, because the machine may be shared), the
share of the command spent generating vs saving, and the ratio command / baseline. The issue's target
is 1,000,000 rows in under 60 s.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

from prompt_improver.demo import generate_demo_records
from store.sqlite.migrations import migrate
from store.sqlite.connection import INSERT_SQL, record_to_row

BATCH = 10_000
TARGET_S = 60.0


def _baseline(path: Path, rows: list[tuple]) -> tuple[float, float]:
    migrate(path)
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("PRAGMA synchronous = NORMAL")
        started, cpu_started = time.perf_counter(), time.process_time()
        for start in range(0, len(rows), BATCH):
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(INSERT_SQL, rows[start : start + BATCH])
            conn.execute("COMMIT")
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        (count,) = conn.execute("SELECT count(*) FROM prompt_history").fetchone()
    assert count == len(rows), (count, len(rows))
    return elapsed, cpu


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _command(path: Path, rows: int) -> tuple[float, float, str]:
    script = Path(sys.executable).with_name("prompt-improver")
    # Not `-m prompt_improver.cli`: run as __main__, the dispatcher's error classes would be second copies.
    entry = "import sys; from prompt_improver.cli import main; sys.exit(main())"
    command = [str(script)] if script.exists() else [sys.executable, "-c", entry]
    started, cpu_started = time.perf_counter(), _children_cpu()
    result = subprocess.run(
        [*command, "demo-data", "--rows", str(rows), "--db", str(path)],
        capture_output=True, text=True, check=False, cwd=path.parent,
    )
    elapsed, cpu = time.perf_counter() - started, _children_cpu() - cpu_started
    if result.returncode != 0:
        raise SystemExit(f"demo-data failed ({result.returncode}): {result.stderr.strip()}")
    with closing(sqlite3.connect(path)) as conn:
        (count,) = conn.execute("SELECT count(*) FROM prompt_history").fetchone()
    assert count == rows, (count, rows)
    return elapsed, cpu, result.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    rows = parser.parse_args().rows
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-demo-") as directory:
        directory = Path(directory)
        # Streamed and dropped, as the command consumes them (a list of 1M records would add GC passes).
        started, cpu_started = time.perf_counter(), time.process_time()
        for _ in generate_demo_records(rows, seed=0):
            pass
        generate_s, generate_cpu = time.perf_counter() - started, time.process_time() - cpu_started
        tuples = [record_to_row(record) for record in generate_demo_records(rows, seed=0)]
        gc.collect()
        baseline_s, baseline_cpu = _baseline(directory / "baseline.db", tuples)
        del tuples
        gc.collect()
        command_s, command_cpu, output = _command(directory / "demo.db", rows)
    save_s = max(command_s - generate_s, 0.0)
    per_million = command_s * 1_000_000 / rows
    print(f"rows: {rows:,}   load average at start: {load:.1f} on {os.cpu_count()} cores "
          "(others' work slows every figure)")
    print(f"baseline   raw executemany of pre-built tuples : {baseline_s:7.2f} s wall, {baseline_cpu:6.2f} s CPU")
    print(f"demo-data  whole command (subprocess)          : {command_s:7.2f} s wall, {command_cpu:6.2f} s CPU   "
          f"({output})")
    print(f"  generating records (measured alone)          : {generate_s:7.2f} s wall, {generate_cpu:6.2f} s CPU   "
          f"({generate_s / command_s:.0%} of the command's wall time)")
    print(f"  saving through save_many + start-up (rest)   : {save_s:7.2f} s   ({save_s / command_s:.0%})")
    print(f"ratio demo-data / baseline: {command_s / baseline_s:.2f}x wall, {command_cpu / baseline_cpu:.2f}x CPU")
    print(f"target: {rows:,} rows in < {TARGET_S:.0f} s scaled to 1M -> "
          f"{'met' if per_million < TARGET_S else 'MISSED'} ({per_million:.1f} s per 1M)")


if __name__ == "__main__":
    main()
