"""`save_many` with the search index filled in one statement per batch (migration 8), against the per-row
trigger it replaces and against no index at all, in the same run.

    python bench/bench_bulk_index.py [--rows 100000]

Fresh migrated databases in a temporary directory, the same pre-built rows, 10,000 per transaction, on one
raw connection (so only the indexing differs):
1. no search index (its table and triggers dropped): what a write cost before issue 12;
2. per-row triggers (the flag never set): what `save_many` cost before migration 8;
3. `store.sqlite.search_index.bulk_indexed` around the same `executemany`: what `save_many` does now.
Then, for scale, `SQLitePromptRepository.save_many` end to end (it also builds the rows from the records).
Prints seconds, the load average (the machine may be shared) and the ratios; checks the index after 3 and 4.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import tempfile
import time
from contextlib import closing, nullcontext
from pathlib import Path

from prompt_improver.demo import generate_demo_records
from store.sqlite.migrations import migrate
from store.sqlite.search_index import bulk_indexed
from store.sqlite.connection import INSERT_SQL, record_to_row
from store.sqlite.repository import SQLitePromptRepository

BATCH = 10_000


def _check(path: Path, expected: int) -> None:
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("INSERT INTO prompt_history_fts (prompt_history_fts, rank) VALUES ('integrity-check', 1)")
        documents, stored = conn.execute(
            "SELECT (SELECT count(*) FROM prompt_history_fts_docsize), (SELECT count(*) FROM prompt_history)"
        ).fetchone()
    assert documents == stored == expected, (documents, stored)


def _raw(path: Path, rows: list[tuple], *, index: bool, bulk: bool = False) -> float:
    migrate(path)
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("PRAGMA synchronous = NORMAL")
        if not index:
            for name in ("insert", "update", "delete"):
                conn.execute(f"DROP TRIGGER prompt_history_fts_{name}")
            conn.execute("DROP TABLE prompt_history_fts")
        started = time.perf_counter()
        for start in range(0, len(rows), BATCH):
            conn.execute("BEGIN IMMEDIATE")
            with bulk_indexed(conn) if bulk else nullcontext():
                conn.executemany(INSERT_SQL, rows[start:start + BATCH])
            conn.execute("COMMIT")
        elapsed = time.perf_counter() - started
    if index:
        _check(path, len(rows))
    return elapsed


def _bulk(path: Path, records: list) -> float:
    migrate(path)
    with SQLitePromptRepository(path) as repo:
        started = time.perf_counter()
        repo.save_many(records, batch_size=BATCH)
        elapsed = time.perf_counter() - started
    _check(path, len(records))
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    count = parser.parse_args().rows
    records = list(generate_demo_records(count))
    rows = [record_to_row(record) for record in records]
    with tempfile.TemporaryDirectory() as folder:
        none = _raw(Path(folder) / "none.db", rows, index=False)
        trigger = _raw(Path(folder) / "trigger.db", rows, index=True)
        bulk = _raw(Path(folder) / "bulk.db", rows, index=True, bulk=True)
        repository = _bulk(Path(folder) / "repository.db", records)
    print(f"{count:,} records, load average {os.getloadavg()[0]:.1f}")
    print(f"no search index     {none:6.2f} s")
    print(f"per-row triggers    {trigger:6.2f} s  {trigger / none:.2f}x no index")
    print(f"one bulk INSERT     {bulk:6.2f} s  {bulk / none:.2f}x no index, {bulk / trigger:.2f}x the triggers")
    print(f"save_many, records  {repository:6.2f} s  (rows built from records inside the timing)")


if __name__ == "__main__":
    main()
