"""Every analytics query against hand-computed answers, through the worker process on real SQLite files.

The test process writes the fixtures with `sqlite3` (through the repository) and never loads DuckDB's
sqlite extension; the worker (one per module, verifying the file on every call) does the reading.
"""

from __future__ import annotations

import math
import random
from datetime import date

import numpy as np
import pandas as pd
import pytest

from store.analytics.errors import AnalyticsQueryError
from store.analytics.worker import AnalyticsWorker
from tests.support.analytics_db import create_history, record_at

D10, D12 = date(2026, 1, 10), date(2026, 1, 12)


@pytest.fixture(scope="module")
def worker(tmp_path_factory):
    path = tmp_path_factory.mktemp("analytics") / "history.db"
    with AnalyticsWorker(path, verify_interval_s=0) as analytics:
        yield analytics


@pytest.fixture
def history(worker):
    """Build the module worker's database afresh from records (the worker notices the new file)."""
    for suffix in ("", "-wal", "-shm"):
        worker.db_path.with_name(worker.db_path.name + suffix).unlink(missing_ok=True)

    def build(*records):
        return create_history(worker.db_path, records)

    return build


def six_records():
    return [
        record_at("2026-01-10 12:00:00", backend="few-shot", confidence=0.8, quality=0.7, latency_ms=100.0,
                  model_version="m1", framework="AIDA", role="Writer"),
        record_at("2026-01-10 13:00:00", backend="zero-shot", confidence=0.6, quality=0.5, latency_ms=300.0,
                  model_version="m1", framework="RTF", role="Editor"),
        record_at("2026-01-11 09:00:00", backend="zero-shot", confidence=None, quality=None, latency_ms=None,
                  model_version="m2", framework="AIDA", role="Writer"),
        record_at("2026-01-12 23:59:59.999999", backend="few-shot", confidence=0.4, quality=0.9, latency_ms=500.0,
                  model_version="m2", framework="", role=""),
        record_at("2026-01-13 00:00:00", backend="few-shot", confidence=1.0, quality=1.0, latency_ms=700.0,
                  model_version="m1", framework="RTF", role="Editor"),
        record_at("2026-01-07 08:00:00", backend="zero-shot", confidence=0.2, quality=0.1, latency_ms=50.0,
                  model_version="m1", framework="TAG", role="Analyst"),
    ]


def test_kpis_count_the_inclusive_range_and_skip_missing_values(worker, history):
    history(*six_records())
    kpis = worker.kpis(D10, D12)
    assert (kpis["start"], kpis["end"], kpis["count"]) == ("2026-01-10", "2026-01-12", 4)
    assert kpis["avg_confidence"] == pytest.approx(0.6)
    assert kpis["avg_quality"] == pytest.approx(0.7)
    assert kpis["avg_latency_ms"] == pytest.approx(300.0)
    assert kpis["p50_latency_ms"] == pytest.approx(300.0)
    assert kpis["p95_latency_ms"] == pytest.approx(480.0)  # 300 + 0.9 * (500 - 300)
    few, zero = kpis["by_backend"]["few-shot"], kpis["by_backend"]["zero-shot"]
    assert (few["count"], few["avg_confidence"], few["avg_quality"]) == (2, pytest.approx(0.6), pytest.approx(0.8))
    assert (few["p50_latency_ms"], few["p95_latency_ms"]) == (pytest.approx(300.0), pytest.approx(480.0))
    assert (zero["count"], zero["avg_confidence"], zero["p50_latency_ms"]) == (2, pytest.approx(0.6), 300.0)


def test_kpis_compare_with_the_previous_period_of_equal_length(worker, history):
    history(*six_records())
    previous = worker.kpis(D10, D12)["previous"]
    assert (previous["start"], previous["end"], previous["count"]) == ("2026-01-07", "2026-01-09", 1)
    assert previous["avg_confidence"] == pytest.approx(0.2)
    assert previous["p95_latency_ms"] == pytest.approx(50.0)
    assert previous["by_backend"]["few-shot"]["count"] == 0


def test_range_edges_include_the_last_microsecond_and_exclude_next_midnight(worker, history):
    history(*six_records())
    assert worker.kpis(D12, D12)["count"] == 1
    next_day = worker.kpis(date(2026, 1, 13), date(2026, 1, 13))
    assert next_day["count"] == 1 and next_day["p50_latency_ms"] == 700.0


def test_an_empty_range_has_zero_count_and_no_metrics(worker, history):
    history(*six_records())
    kpis = worker.kpis(date(2025, 3, 1), date(2025, 3, 31))
    assert kpis["count"] == 0
    assert kpis["avg_confidence"] is None and kpis["p95_latency_ms"] is None
    assert kpis["by_backend"]["zero-shot"] == {
        "count": 0, "avg_confidence": None, "avg_quality": None, "avg_latency_ms": None,
        "p50_latency_ms": None, "p95_latency_ms": None,
    }


def test_a_single_row_is_its_own_median_and_p95(worker, history):
    history(record_at("2026-02-01 10:00:00", latency_ms=1234.5, confidence=0.9))
    kpis = worker.kpis()
    assert (kpis["start"], kpis["end"], kpis["count"]) == ("2026-02-01", "2026-02-01", 1)
    assert kpis["p50_latency_ms"] == kpis["p95_latency_ms"] == 1234.5
    assert kpis["previous"] is None  # all time has no previous period


def test_backend_and_model_filters_narrow_every_metric(worker, history):
    history(*six_records())
    assert worker.kpis(D10, D12, model="m2")["count"] == 2
    only_few = worker.kpis(D10, D12, backend="few-shot", model="m2")
    assert only_few["count"] == 1 and only_few["avg_quality"] == pytest.approx(0.9)
    assert list(only_few["by_backend"]) == ["few-shot"]


def test_percentiles_match_numpy_linear_interpolation(worker, history):
    rng = random.Random(7)
    latencies = [round(rng.lognormvariate(7.5, 0.8), 1) for _ in range(301)]
    history(*[record_at(f"2026-03-{1 + i % 28:02d} 10:00:00", latency_ms=value, uid=f"p{i}") for i, value in enumerate(latencies)])
    kpis = worker.kpis(date(2026, 3, 1), date(2026, 3, 31))
    assert kpis["p50_latency_ms"] == pytest.approx(float(np.percentile(latencies, 50)), rel=1e-12)
    assert kpis["p95_latency_ms"] == pytest.approx(float(np.percentile(latencies, 95)), rel=1e-12)


def test_statistics_keep_the_original_keys(worker, history):
    history(*six_records())
    stats = worker.statistics(D10, D12)
    assert stats["total_count"] == 4
    assert stats["average_confidence"] == pytest.approx(0.6)
    assert stats["average_latency_ms"] == pytest.approx(300.0)
    assert stats["backend_distribution"] == {"zero-shot": 2, "few-shot": 2}
    assert stats["by_backend"]["few-shot"]["average_quality"] == pytest.approx(0.8)
    assert {"p50_latency_ms", "p95_latency_ms", "average_quality"} <= set(stats)


def test_timeseries_keeps_empty_days_as_zero_count_buckets(worker, history):
    history(*six_records())
    frame = worker.timeseries(D10, D12)
    assert len(frame) == 6  # 3 days x 2 backends
    assert str(frame["bucket"].dt.tz) == "UTC"
    gap = frame[(frame["bucket"] == pd.Timestamp("2026-01-11", tz="UTC")) & (frame["backend"] == "few-shot")]
    assert gap["count"].tolist() == [0] and math.isnan(gap["avg_confidence"].iloc[0])
    last = frame[(frame["bucket"] == pd.Timestamp("2026-01-12", tz="UTC")) & (frame["backend"] == "few-shot")]
    assert last["count"].tolist() == [1] and last["p95_latency_ms"].tolist() == [500.0]


def test_timeseries_uses_hours_for_short_ranges_and_weeks_for_long_ones(worker, history):
    history(*six_records())
    hours = worker.timeseries(D10, D10)
    assert len(hours) == 48
    noon = hours[hours["bucket"] == pd.Timestamp("2026-01-10 12:00", tz="UTC")]
    assert noon.set_index("backend")["count"].to_dict() == {"few-shot": 1, "zero-shot": 0}
    weeks = worker.timeseries(date(2026, 1, 1), date(2026, 6, 30))
    assert weeks["bucket"].iloc[0] == pd.Timestamp("2025-12-29", tz="UTC")  # the Monday of the first week
    assert (weeks["bucket"].dt.day_of_week == 0).all()
    assert weeks["count"].sum() == 6


def test_distributions_give_counts_and_shares(worker, history):
    history(*six_records())
    backends = worker.backend_distribution(D10, D12)
    assert backends.set_index("backend")["count"].to_dict() == {"few-shot": 2, "zero-shot": 2}
    assert backends["share"].tolist() == [0.5, 0.5]
    models = worker.model_distribution(D10, date(2026, 1, 13))
    assert models.values.tolist() == [["m1", 3, 0.6], ["m2", 2, 0.4]]


def test_top_frameworks_and_roles_skip_blanks_and_honour_the_limit(worker, history):
    history(*six_records())
    frameworks = worker.top_frameworks(D10, D12, limit=1)
    assert frameworks.values.tolist() == [["AIDA", 2, 0.5]]
    roles = worker.top_roles(D10, D12)
    assert roles["role"].tolist() == ["Writer", "Editor"]


def test_histograms_bin_unit_metrics_in_twentieths(worker, history):
    history(*six_records())
    hist = worker.histograms(D10, D12)
    confidence = hist["confidence"]
    assert len(confidence) == 40 and not confidence["log_scale"].any()
    filled = confidence[confidence["count"] > 0]
    assert sorted(zip(filled["backend"], filled["bin"], filled["count"])) == [
        ("few-shot", 8, 1), ("few-shot", 16, 1), ("zero-shot", 12, 1),
    ]
    assert confidence.query("bin == 8")["bin_start"].tolist() == [pytest.approx(0.4)] * 2
    assert hist["quality"].query("count > 0")["bin"].sort_values().tolist() == [10, 14, 18]
    latency = hist["latency_ms"]
    assert latency["bin_start"].iloc[0] == 100.0 and latency["bin_end"].iloc[19] == 500.0
    assert latency.query("count > 0")["bin"].sort_values().tolist() == [0, 10, 19]


def test_latency_histogram_switches_to_log_bins_across_decades(worker, history):
    history(
        record_at("2026-01-10 10:00:00", latency_ms=10.0),
        record_at("2026-01-10 11:00:00", latency_ms=5000.0),
        record_at("2026-01-10 12:00:00", latency_ms=0.0),
    )
    latency = worker.histograms(D10, D10)["latency_ms"].query("backend == 'few-shot'")
    assert latency["log_scale"].all()
    assert latency["bin_start"].iloc[0] == pytest.approx(10.0) and latency["bin_end"].iloc[-1] == pytest.approx(10_000.0)
    filled = latency.query("count > 0")
    assert filled["count"].tolist() == [2, 1]  # 0 ms joins the first bin
    assert filled["bin_start"].iloc[1] == pytest.approx(10**3.5) and filled["bin_end"].iloc[1] == pytest.approx(10**3.75)


def test_unpaired_samples_list_each_backends_values(worker, history):
    history(*six_records())
    samples = worker.unpaired_samples(D10, D12, "confidence")
    assert samples == {"zero-shot": [0.6], "few-shot": [0.8, 0.4]}
    with pytest.raises(AnalyticsQueryError, match="metric"):
        worker.unpaired_samples(D10, D12, "size")


def test_history_page_is_newest_first_paginated_and_counts_all_matches(worker, history):
    history(*six_records())
    page, total = worker.history_page(D10, date(2026, 1, 13), limit=2, offset=1)
    assert total == 5
    assert page["timestamp"].tolist() == [
        pd.Timestamp("2026-01-12 23:59:59.999999", tz="UTC"), pd.Timestamp("2026-01-11 09:00:00", tz="UTC"),
    ]
    assert page["guardrails"].iloc[0] == ["Keep it under 200 words", "No unverifiable claims", "Include one code sample"]
    assert math.isnan(page["confidence"].iloc[1])
    _, confident = worker.history_page(D10, date(2026, 1, 13), min_confidence=0.6)
    assert confident == 3


def test_history_text_search_ignores_case_in_idea_and_prompt(worker, history):
    history(
        record_at("2026-01-10 10:00:00", original_idea="Plan a garden party", improved_prompt="You are a planner"),
        record_at("2026-01-10 11:00:00", original_idea="Write a poem", improved_prompt="Summer GARDEN verses, 100%"),
        record_at("2026-01-10 12:00:00", original_idea="Résumé de l'été", improved_prompt="Écris un résumé"),
    )
    page, total = worker.history_page(D10, D10, text="garden")
    assert total == 2 and page["original_idea"].tolist() == ["Write a poem", "Plan a garden party"]
    assert worker.history_page(D10, D10, text="100%")[1] == 1
    assert worker.history_page(D10, D10, text="0_")[1] == 0  # wildcards are matched literally
    assert worker.history_page(D10, D10, text="ÉTÉ")[1] == 1  # beyond ASCII too


def test_reversed_range_is_refused_with_both_dates(worker, history):
    history(*six_records())
    with pytest.raises(AnalyticsQueryError, match="2026-01-12.*2026-01-10|2026-01-10.*2026-01-12"):
        worker.kpis(D12, D10)


@pytest.mark.parametrize(
    ("start", "end", "backend", "model"),
    [(D10, D12, None, None), (D10, D12, "few-shot", None), (None, None, None, "m1"), (date(2025, 1, 1), date(2025, 1, 5), None, None)],
)
def test_the_page_bundle_equals_the_separate_queries(worker, history, start, end, backend, model):
    rng = random.Random(4)
    history(*six_records(), *[
        record_at(f"2026-01-{rng.randint(7, 13):02d} {rng.randint(0, 23):02d}:00:00",
                  backend=rng.choice(["few-shot", "zero-shot"]), confidence=rng.random(), quality=rng.random(),
                  latency_ms=rng.choice([5.0, 50.0, 500.0, 5000.0]) * rng.random(), model_version=rng.choice(["m1", "m2"]),
                  framework=rng.choice(["AIDA", "RTF", ""]), role=rng.choice(["Writer", "Editor"]))
        for _ in range(60)
    ])
    filters = {"backend": backend, "model": model}

    page = worker.analytics_page(start, end, top_limit=2, **filters)

    assert page["kpis"] == worker.kpis(start, end, **filters)
    pd.testing.assert_frame_equal(page["timeseries"], worker.timeseries(start, end, **filters))
    separate = worker.histograms(start, end, **filters)
    for metric, frame in page["histograms"].items():
        pd.testing.assert_frame_equal(frame, separate[metric])
    pd.testing.assert_frame_equal(page["top_frameworks"], worker.top_frameworks(start, end, limit=2, **filters))
    pd.testing.assert_frame_equal(page["top_roles"], worker.top_roles(start, end, limit=2, **filters))
    charts = worker.analytics_page(start, end, top_limit=2, with_kpis=False, **filters)
    assert "kpis" not in charts
    pd.testing.assert_frame_equal(charts["top_frameworks"], page["top_frameworks"])
    pd.testing.assert_frame_equal(charts["timeseries"], page["timeseries"])


def test_a_backend_filter_gives_the_same_overall_kpis_as_that_backends_row(worker, history):
    history(*six_records())

    kpis = worker.kpis(D10, D12, backend="few-shot")

    assert {name: kpis[name] for name in kpis["by_backend"]["few-shot"]} == kpis["by_backend"]["few-shot"]
    assert kpis["count"] == 2 and kpis["p50_latency_ms"] == pytest.approx(300.0)
