"""The app writing while its analytics run: a writer process commits while the worker answers queries."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import date
from pathlib import Path

import pytest

from store.analytics.worker import AnalyticsWorker
from tests.support.analytics_db import create_history, raw_count, record_at

# Commits 40 records a second for `seconds`, each ~8 KB of text, through plain sqlite3 with a small
# auto-checkpoint threshold, so a reader that held a snapshot open would make the WAL grow at once.
WRITER = r"""
import json, sqlite3, sys, time, uuid
path, seconds = sys.argv[1], float(sys.argv[2])
conn = sqlite3.connect(path, timeout=5, isolation_level=None)
conn.execute("PRAGMA busy_timeout = 5000")
conn.execute("PRAGMA wal_autocheckpoint = 50")
errors, written, end = [], 0, time.monotonic() + seconds
while time.monotonic() < end:
    try:
        conn.execute(
            "INSERT INTO prompt_history (uid, timestamp, original_idea, improved_prompt, backend, confidence, latency_ms) "
            "VALUES (?, ?, ?, ?, 'zero-shot', 0.5, 100.0)",
            (uuid.uuid4().hex, "2026-01-10T10:00:00.000000+00:00", "an idea from the writer", "x" * 8000),
        )
        written += 1
    except sqlite3.Error as error:
        errors.append(repr(error))
    time.sleep(0.025)
conn.close()
print(json.dumps({"written": written, "errors": errors}))
"""


def wal_size(db_path: Path) -> int:
    wal = db_path.with_name(db_path.name + "-wal")
    return wal.stat().st_size if wal.exists() else 0


@pytest.mark.slow
def test_writer_keeps_committing_and_checkpointing_while_analytics_run(db_path, tmp_path):
    create_history(db_path, [record_at("2026-01-09 10:00:00")])
    with AnalyticsWorker(db_path) as worker:
        worker.kpis()  # started and loaded before the writer begins: the query process,
        worker.export_records(tmp_path / "records.csv")  # and the export process
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(db_path), "5"], stdout=subprocess.PIPE, text=True)
        largest_wal, queries = 0, 0
        try:
            while writer.poll() is None:
                worker.kpis(date(2026, 1, 1), date(2026, 1, 31))
                worker.timeseries(date(2026, 1, 10), date(2026, 1, 10))
                worker.history_page(text="writer", limit=5)
                worker.export_records(tmp_path / "records.csv", date(2026, 1, 10), date(2026, 1, 10))
                queries += 4
                largest_wal = max(largest_wal, wal_size(db_path))
        finally:
            report = json.loads(writer.communicate(timeout=60)[0])
        assert report["errors"] == [] and report["written"] > 100
        assert queries > 20
        # ~1.6 MB were written; checkpoints kept restarting the WAL, so it never held more than a fraction.
        assert largest_wal < 1_000_000, f"the WAL reached {largest_wal:,} bytes"
        # A record saved is visible to the next query.
        assert worker.kpis()["count"] == 1 + report["written"] == raw_count(db_path)
        # Between calls the worker holds no read: a full checkpoint completes and empties the WAL.
        with closing(sqlite3.connect(db_path)) as conn:
            busy, _log, _done = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        assert busy == 0 and wal_size(db_path) == 0
