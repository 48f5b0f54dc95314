"""`prompt-improver export`: progress on stderr, the same CSV as the worker's export, and Parquet."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from store.analytics.worker import AnalyticsWorker
from tests.support.analytics_db import at, create_history, record_at


def cli(*args: str) -> subprocess.CompletedProcess:
    script = Path(sys.executable).with_name("prompt-improver")
    return subprocess.run([str(script), *args], capture_output=True, text=True, timeout=180)


@pytest.fixture
def history(db_path):
    start = at("2026-01-01 08:00:00")
    return create_history(db_path, [
        record_at((start + timedelta(hours=7 * i)).isoformat(sep=" ")[:19], confidence=(i % 10) / 10,
                  original_idea=f"=SUM(A{i}) idea {i}" if i % 5 == 0 else f"idea {i}, \"quoted\"\nsecond line")
        for i in range(300)  # 300 records over 88 days
    ])


def test_the_csv_export_reports_progress_and_equals_the_export_without_progress(history, tmp_path):
    out = tmp_path / "records.csv"
    result = cli("export", "--db", str(history), "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"300 rows written to {out}"
    assert result.stderr.splitlines()[-1].startswith("export csv 100.0% (300 rows)")
    reference = tmp_path / "reference.csv"
    with AnalyticsWorker(history) as worker:  # no progress: one COPY of the whole range
        assert worker.export_records(reference) == 300  # without progress
    assert out.read_bytes() == reference.read_bytes()
    assert b",'=SUM(A0) idea 0," in out.read_bytes()  # the formula guard


def test_the_parquet_export_holds_every_record_typed_and_unaltered(history, tmp_path):
    out = tmp_path / "records.parquet"
    result = cli("export", "--db", str(history), "-o", str(out), "--format", "parquet", "--since", "2026-01-02")
    assert result.returncode == 0, result.stderr
    con = duckdb.connect()
    try:
        rows = con.execute(f"SELECT id, original_idea, confidence FROM read_parquet('{out}') ORDER BY id").fetchall()
        kinds = dict(con.execute(f"DESCRIBE SELECT * FROM read_parquet('{out}')").fetchall()[i][:2] for i in range(3))
    finally:
        con.close()
    first = next(i for i in range(300) if (at("2026-01-01 08:00:00") + timedelta(hours=7 * i)).day >= 2)
    assert result.stdout.strip() == f"{300 - first} rows written to {out}"
    assert rows[0] == (first + 1, f"idea {first}, \"quoted\"\nsecond line", (first % 10) / 10)
    assert ("=SUM(A5) idea 5" in [r[1] for r in rows]) == (5 >= first)
    assert kinds == {"id": "BIGINT", "uid": "VARCHAR", "timestamp": "VARCHAR"}


def test_a_summary_in_parquet_is_refused_with_the_fix(history, tmp_path):
    result = cli("export", "--db", str(history), "-o", str(tmp_path / "s.parquet"), "--summary", "--format", "parquet")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "error: --summary writes CSV only; drop --format parquet, or export the records as Parquet"
    )
