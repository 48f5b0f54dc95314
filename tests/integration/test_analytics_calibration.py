"""The calibration query (confidence against quality) through the worker process, against hand-computed
bins and ECE; metric versions counted; and a rescore in place reaching the read model."""

from __future__ import annotations

from datetime import date

import pytest

from store.analytics.worker import AnalyticsWorker
from store.sqlite.repository import SQLitePromptRepository
from tests.support.analytics_db import create_history, record_at


@pytest.fixture
def worker(tmp_path):
    with AnalyticsWorker(tmp_path / "history.db", verify_interval_s=0) as analytics:
        yield analytics


def scored(day: str, backend: str, confidence, quality, version=2):
    return record_at(f"2026-01-{day} 12:00:00", backend=backend, confidence=confidence, quality=quality,
                     metric_version=None if quality is None else version)


def test_bins_and_ece_per_backend_match_the_hand_computed_values(worker):
    create_history(worker.db_path, [
        # few-shot: two in bin 9 (0.9, 1.0 -> avg 0.95; quality 0.5, 0.3 -> 0.4), one in bin 3 (0.3 -> 0.5)
        scored("10", "few-shot", 0.9, 0.5), scored("10", "few-shot", 1.0, 0.3), scored("11", "few-shot", 0.3, 0.5),
        # zero-shot: perfectly calibrated in bin 6
        scored("10", "zero-shot", 0.6, 0.6), scored("11", "zero-shot", 0.65, 0.65),
        # not counted: no confidence, no quality
        scored("11", "zero-shot", None, 0.9), scored("11", "few-shot", 0.8, None),
    ])

    result = worker.calibration()

    bins = result["bins"].set_index(["backend", "bin"])
    assert list(bins.index) == [("few-shot", 3), ("few-shot", 9), ("zero-shot", 6)]
    assert bins.loc[("few-shot", 9), "count"] == 2
    assert bins.loc[("few-shot", 9), "avg_confidence"] == pytest.approx(0.95)
    assert bins.loc[("few-shot", 9), "avg_quality"] == pytest.approx(0.4)
    assert bins.loc[("few-shot", 9), "gap"] == pytest.approx(-0.55)  # over-confident
    assert (bins.loc[("few-shot", 3), "bin_start"], bins.loc[("few-shot", 3), "bin_end"]) == pytest.approx((0.3, 0.4))
    # ECE few-shot = 2/3 * |0.95 - 0.4| + 1/3 * |0.3 - 0.5| = 0.3667 + 0.0667 = 0.4333
    assert result["ece"]["few-shot"] == pytest.approx(2 / 3 * 0.55 + 1 / 3 * 0.2)
    assert result["ece"]["zero-shot"] == pytest.approx(0.0, abs=1e-12)
    assert result["counts"] == {"zero-shot": 2, "few-shot": 3}


def test_filters_apply_and_an_empty_backend_has_no_ece(worker):
    create_history(worker.db_path, [scored("10", "few-shot", 0.9, 0.5), scored("12", "zero-shot", 0.2, 0.2)])
    few = worker.calibration(backend="few-shot")
    assert few["counts"] == {"few-shot": 1} and few["ece"]["few-shot"] == pytest.approx(0.4)
    day = worker.calibration(date(2026, 1, 10), date(2026, 1, 10))
    assert day["counts"] == {"zero-shot": 0, "few-shot": 1} and day["ece"]["zero-shot"] is None


def test_an_empty_history_gives_no_bins(worker):
    result = worker.calibration()
    assert result["bins"].empty and result["ece"] == {"zero-shot": None, "few-shot": None}
    assert result["metric_versions"] == {}


def test_scored_records_are_counted_by_metric_version(worker):
    create_history(worker.db_path, [
        scored("10", "few-shot", 0.9, 0.5, version=1), scored("10", "few-shot", 0.9, 0.5, version=2),
        scored("11", "few-shot", 0.9, 0.5, version=2), scored("11", "few-shot", 0.9, 0.5, version=None),
        scored("11", "few-shot", 0.9, None),
    ])
    assert worker.calibration()["metric_versions"] == {1: 1, 2: 2, None: 1}


def test_a_rescore_in_place_reaches_the_analytics(worker):
    create_history(worker.db_path, [scored("10", "few-shot", 0.9, 0.9, version=1)])
    assert worker.calibration()["ece"]["few-shot"] == pytest.approx(0.0)  # the read model is loaded

    with SQLitePromptRepository(worker.db_path) as repo:
        assert repo.update_quality([(1, 0.4, 2)]) == 1

    after = worker.calibration()
    assert after["ece"]["few-shot"] == pytest.approx(0.5)
    assert after["metric_versions"] == {2: 1}
    assert worker.kpis()["avg_quality"] == pytest.approx(0.4)
