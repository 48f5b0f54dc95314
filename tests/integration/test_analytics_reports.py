"""CSV reports through the worker: injection payloads neutralised, numbers untouched, exact round trip."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest

from store.analytics.worker import AnalyticsWorker
from store.analytics.errors import ExportTooLarge
from tests.support.analytics_db import create_history, record_at

PAYLOADS = ["=1+1", "+cmd", "-2+3", "@SUM(A1)", "\t=x", "\r=x", 'say "hi", ok', "line one\nline two", "a,b", "Ünïcödé ✓"]


@pytest.fixture
def worker(db_path):
    with AnalyticsWorker(db_path) as analytics:
        yield analytics


def read_csv(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_records_export_neutralises_every_text_column_and_keeps_numbers(worker, db_path, tmp_path):
    records = [
        record_at(f"2026-01-10 10:{i:02d}:00", uid=f"u{i}", original_idea=f"idea {payload}", context=payload,
                  role=payload, framework=payload, reasoning=payload, guardrails=(payload,),
                  confidence=0.25, latency_ms=1500.5)
        for i, payload in enumerate(PAYLOADS)
    ]
    create_history(db_path, records)
    out = tmp_path / "records.csv"
    assert worker.export_records(out, date(2026, 1, 10), date(2026, 1, 10)) == len(PAYLOADS)
    raw = out.read_bytes()
    assert raw.startswith(b"id,uid,timestamp,original_idea") and b"\r\n" in raw
    rows = read_csv(raw.decode("utf-8"))
    for row, payload in zip(rows, PAYLOADS):
        expected = "'" + payload if payload[0] in "=+-@\t\r" else payload
        assert (row["context"], row["role"], row["framework"], row["reasoning"]) == (expected,) * 4
        assert row["original_idea"] == f"idea {payload}"  # starts with a letter: left alone
        assert json.loads(row["guardrails"]) == [payload]  # a JSON array starts with '[': safe as it is
        assert (row["confidence"], row["latency_ms"]) == ("0.25", "1500.5")
        assert row["timestamp"].startswith("2026-01-10T10:")


def test_download_bytes_match_the_file_and_honour_filters(worker, db_path, tmp_path):
    create_history(db_path, [
        record_at("2026-01-10 10:00:00", backend="few-shot", original_idea="Plan the garden"),
        record_at("2026-01-10 11:00:00", backend="zero-shot", original_idea="Write a poem"),
    ])
    data = worker.records_csv(date(2026, 1, 10), date(2026, 1, 10), text="GARDEN")
    rows = read_csv(data.decode("utf-8"))
    assert [row["original_idea"] for row in rows] == ["Plan the garden"]
    worker.export_records(tmp_path / "all.csv")
    assert worker.records_csv() == (tmp_path / "all.csv").read_bytes()
    with pytest.raises(ExportTooLarge, match="prompt-improver export"):
        worker.records_csv(max_rows=1)


def test_a_download_can_list_newest_first_like_the_history_table(worker, db_path):
    create_history(db_path, [
        record_at("2026-01-10 10:00:00", uid="a", original_idea="first idea"),
        record_at("2026-01-11 10:00:00", uid="b", original_idea="second idea"),
        record_at("2026-01-12 10:00:00", uid="c", original_idea="third idea", confidence=0.1),
    ])
    oldest_first = [row["uid"] for row in read_csv(worker.records_csv().decode("utf-8"))]
    newest_first = [row["uid"] for row in read_csv(worker.records_csv(newest_first=True).decode("utf-8"))]
    filtered = read_csv(worker.records_csv(text="IDEA", min_confidence=0.2, newest_first=True).decode("utf-8"))
    assert (oldest_first, newest_first) == (["a", "b", "c"], ["c", "b", "a"])
    assert [row["uid"] for row in filtered] == ["b", "a"]


def test_summary_report_has_per_day_backend_aggregates(worker, db_path):
    create_history(db_path, [
        record_at("2026-01-10 10:00:00", backend="few-shot", confidence=0.5, quality=0.4, latency_ms=100.0),
        record_at("2026-01-10 11:00:00", backend="few-shot", confidence=0.7, quality=0.6, latency_ms=300.0),
        record_at("2026-01-11 09:00:00", backend="zero-shot", confidence=None, quality=None, latency_ms=None),
    ])
    rows = read_csv(worker.summary_csv().decode("utf-8"))
    assert rows[0] == {
        "day": "2026-01-10", "backend": "few-shot", "count": "2", "avg_confidence": "0.6",
        "avg_quality": "0.5", "p50_latency_ms": "200.0", "p95_latency_ms": "290.0",
    }
    assert (rows[1]["day"], rows[1]["count"], rows[1]["avg_confidence"]) == ("2026-01-11", "1", "")


def test_summary_averages_are_rounded_for_a_spreadsheet(worker, db_path):
    create_history(db_path, [
        record_at(f"2026-01-10 1{i}:00:00", backend="few-shot", confidence=value, quality=value,
                  latency_ms=latency)
        for i, (value, latency) in enumerate([(0.1, 100.0), (0.2, 100.0), (0.7, 100.1234567)])
    ])
    (row,) = read_csv(worker.summary_csv().decode("utf-8"))
    # 1/3 to six places rather than 0.3333333333333333; latency to the microsecond.
    assert (row["avg_confidence"], row["avg_quality"], row["p50_latency_ms"]) == ("0.333333", "0.333333", "100.0")
    assert row["p95_latency_ms"] == "100.111"


def test_exports_of_a_history_that_does_not_exist_have_only_the_header(worker, tmp_path):
    out = tmp_path / "records.csv"
    assert worker.export_records(out) == 0
    assert out.read_text(encoding="utf-8").startswith("id,uid,timestamp")
    assert worker.summary_csv() == b"day,backend,count,avg_confidence,avg_quality,p50_latency_ms,p95_latency_ms\r\n"


def test_records_export_says_which_quality_metric_scored_each_record(worker, db_path):
    create_history(db_path, [
        record_at("2026-01-10 10:00:00", uid="v2", quality=0.45, metric_version=2),
        record_at("2026-01-10 11:00:00", uid="v1", quality=0.9, metric_version=1),
        record_at("2026-01-10 12:00:00", uid="none", quality=None),
    ])
    rows = read_csv(worker.records_csv().decode("utf-8"))
    assert [(row["uid"], row["quality"], row["metric_version"]) for row in rows] == [
        ("v2", "0.45", "2"), ("v1", "0.9", "1"), ("none", "", "")
    ]
