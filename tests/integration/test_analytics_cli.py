"""`prompt-improver stats` and `export` end to end, each in a fresh process as a user runs them."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.analytics_db import create_history, record_at


def cli(*args: str) -> subprocess.CompletedProcess:
    # The installed console script, as a user runs it (`python -m prompt_improver.cli` would load the
    # CLI module twice, as __main__ and by name).
    script = Path(sys.executable).with_name("prompt-improver")
    return subprocess.run([str(script), *args], capture_output=True, text=True, timeout=180)


@pytest.fixture
def history(db_path):
    return create_history(db_path, [
        record_at("2026-01-10 12:00:00", backend="few-shot", confidence=0.8, quality=0.7, latency_ms=100.0),
        record_at("2026-01-11 12:00:00", backend="zero-shot", confidence=0.6, quality=0.5, latency_ms=300.0,
                  original_idea="=HYPERLINK(\"http://x\")"),
        record_at("2026-01-12 23:59:59.999999", backend="few-shot", confidence=None, quality=0.9, latency_ms=500.0),
        record_at("2026-01-13 00:00:00", backend="few-shot", confidence=0.1, latency_ms=900.0),
    ])


def test_stats_json_has_the_original_keys_and_the_new_ones(history):
    result = cli("stats", "--db", str(history), "--since", "2026-01-10", "--until", "2026-01-12", "--json")
    assert result.returncode == 0, result.stderr
    stats = json.loads(result.stdout)
    assert stats["total_count"] == 3
    assert stats["average_confidence"] == pytest.approx(0.7)
    assert stats["average_latency_ms"] == pytest.approx(300.0)
    assert stats["backend_distribution"] == {"zero-shot": 1, "few-shot": 2}
    assert stats["p50_latency_ms"] == pytest.approx(300.0) and stats["p95_latency_ms"] == pytest.approx(480.0)
    assert stats["average_quality"] == pytest.approx(0.7)
    assert stats["by_backend"]["few-shot"]["count"] == 2


def test_stats_table_and_backend_filter(history):
    result = cli("stats", "--db", str(history), "--backend", "zero_shot")
    assert result.returncode == 0, result.stderr
    assert "2026-01-10 .. 2026-01-13 (UTC, inclusive)" in result.stdout  # all time: the first to the last record
    assert "few-shot" not in result.stdout
    assert "records" in result.stdout and "0.600" in result.stdout


def test_a_bad_date_is_a_one_line_usage_error_naming_value_and_format(history):
    result = cli("stats", "--db", str(history), "--since", "10/01/2026")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.strip() == (
        "error: --since '10/01/2026' is not a date; use YYYY-MM-DD (a UTC day; both ends of a range are inclusive)"
    )


def test_export_writes_records_and_prints_the_row_count(history, tmp_path):
    out = tmp_path / "records.csv"
    result = cli("export", "--db", str(history), "--until", "2026-01-12", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"3 rows written to {out}"
    with open(out, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["latency_ms"] for row in rows] == ["100.0", "300.0", "500.0"]
    assert rows[1]["original_idea"] == "'=HYPERLINK(\"http://x\")"
    assert json.loads(rows[0]["guardrails"])[0] == "Keep it under 200 words"


def test_export_summary_has_one_row_per_day_and_backend(history, tmp_path):
    out = tmp_path / "summary.csv"
    result = cli("export", "--db", str(history), "--summary", "--backend", "few-shot", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"3 rows written to {out}"
    with open(out, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["day", "backend", "count", "avg_confidence", "avg_quality", "p50_latency_ms", "p95_latency_ms"]
    assert rows[1] == ["2026-01-10", "few-shot", "1", "0.8", "0.7", "100.0", "100.0"]
    assert rows[2][:4] == ["2026-01-12", "few-shot", "1", ""]
