"""The chart builders: what a reader of each chart sees — units on axes, tooltips, one colour per backend."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard import charts
from dashboard._kpis import tiles


def _series(p50_ms: float = 2_400.0) -> pd.DataFrame:
    buckets = pd.date_range("2026-11-01", periods=3, freq="D", tz="UTC")
    rows = []
    for backend in ("zero-shot", "few-shot"):
        for index, bucket in enumerate(buckets):
            rows.append({
                "bucket": bucket, "backend": backend, "count": 0 if index == 1 else 10,
                "avg_confidence": None if index == 1 else 0.7, "avg_quality": None if index == 1 else 0.6,
                "p50_latency_ms": None if index == 1 else p50_ms, "p95_latency_ms": None if index == 1 else 3 * p50_ms,
            })
    return pd.DataFrame(rows)


def _find(spec: object, key: str) -> list:
    """Every value stored under `key` anywhere in a Vega-Lite spec."""
    found = []
    if isinstance(spec, dict):
        for name, value in spec.items():
            if name == key:
                found.append(value)
            found.extend(_find(value, key))
    elif isinstance(spec, list):
        for value in spec:
            found.extend(_find(value, key))
    return found


def _titles(spec: dict) -> set[str]:
    return {str(title) for title in _find(spec, "title") if isinstance(title, str)}


def test_volume_chart_counts_per_day_with_a_utc_time_axis_and_tooltips() -> None:
    spec = charts.volume_chart(_series(), "day").to_dict()
    assert {"Day (UTC)", "Improvements (count)"} <= _titles(spec)
    assert {"type": "utc"} in _find(spec, "scale")
    tooltip_titles = {item["title"] for item in _find(spec, "tooltip")[0]}
    assert tooltip_titles == {"When", "Backend", "Improvements"}


def test_every_chart_colours_a_backend_the_same_way() -> None:
    for chart in (charts.volume_chart(_series()), charts.latency_chart(_series()), charts.score_chart(_series())):
        scales = [scale for scale in _find(chart.to_dict(), "scale") if "domain" in scale and "range" in scale]
        assert {"domain": ["zero-shot", "few-shot"], "range": charts.BACKEND_COLORS} in scales


def test_latency_is_shown_in_seconds_once_it_reaches_seconds_and_in_ms_below() -> None:
    assert "Latency (s)" in _titles(charts.latency_chart(_series(2_400.0)).to_dict())
    assert "Latency (ms)" in _titles(charts.latency_chart(_series(300.0)).to_dict())


def test_latency_chart_values_are_converted_to_the_unit_on_the_axis() -> None:
    chart = charts.latency_chart(_series(2_400.0))
    assert sorted(chart.data["latency"].unique()) == [2.4, 7.2]


def test_empty_buckets_stay_on_the_volume_axis_but_draw_no_score_point() -> None:
    volume = charts.volume_chart(_series())
    assert len(volume.data) == 6 and (volume.data["count"] == 0).sum() == 2
    scores = charts.score_chart(_series(), metric="avg_quality")
    assert scores.data["score"].notna().all() and len(scores.data) == 4  # 2 backends x the 2 days with records


@pytest.mark.parametrize(("metric", "axis"), [("avg_confidence", "Average confidence (0–1)"),
                                              ("avg_quality", "Average quality (0–1)")])
def test_score_charts_show_their_score_on_a_zero_to_one_axis(metric: str, axis: str) -> None:
    spec = charts.score_chart(_series(), metric=metric).to_dict()
    assert axis in _titles(spec)
    assert {"domain": [0, 1], "zero": False} in _find(spec, "scale")


def test_backend_share_shows_percentages() -> None:
    chart = charts.backend_share_chart(pd.DataFrame({"backend": ["few-shot", "zero-shot"], "count": [3, 1]}))
    shares = dict(zip(chart.data["backend"], chart.data["share"]))
    assert shares == {"few-shot": 0.75, "zero-shot": 0.25}


def test_histogram_labels_its_unit_and_can_use_a_log_axis() -> None:
    frame = pd.DataFrame({"backend": ["few-shot"] * 2, "bin_start": [0.1, 1.0], "bin_end": [1.0, 10.0], "count": [4, 2]})
    spec = charts.histogram_chart(frame, metric="Latency", unit="s", log_scale=True).to_dict()
    assert "Latency (s)" in _titles(spec)
    assert {"type": "log"} in _find(spec, "scale")
    unit_free = charts.histogram_chart(frame, metric="Confidence").to_dict()
    assert "Confidence (0–1)" in _titles(unit_free)


@pytest.mark.parametrize(
    ("current", "previous", "expected"),
    [
        ({"count": 120, "avg_confidence": 0.8, "p50_latency_ms": 2500.0},
         {"count": 100, "avg_confidence": 0.75, "p50_latency_ms": 2000.0},
         {"Improvements": "+20%", "Avg confidence": "+0.050", "p50 latency": "+500 ms"}),
        ({"count": 80, "avg_confidence": 0.7, "p50_latency_ms": 900.0},
         {"count": 100, "avg_confidence": 0.75, "p50_latency_ms": 2100.0},
         {"Improvements": "-20%", "Avg confidence": "-0.050", "p50 latency": "-1.20 s"}),
        ({"count": 5, "avg_confidence": 0.7}, {"count": 0, "avg_confidence": None},
         {"Improvements": None, "Avg confidence": None, "p50 latency": None}),
    ],
)
def test_kpi_deltas_compare_with_the_previous_period(current: dict, previous: dict, expected: dict) -> None:
    shown = {tile.label: tile.delta for tile in tiles({**current, "previous": previous}, "the previous 7 days")}
    assert {label: shown[label] for label in expected} == expected


def test_latency_tiles_treat_an_increase_as_bad() -> None:
    colours = {tile.label: tile.delta_color for tile in tiles({"count": 1, "previous": None}, "x")}
    assert colours["p95 latency"] == "inverse" and colours["Improvements"] == "normal"
