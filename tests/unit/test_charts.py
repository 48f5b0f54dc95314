"""The chart builders: what a reader of each chart sees — units on axes, tooltips, one colour per backend."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard import charts
from dashboard._kpis import sparklines, tiles


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


def _colour_of(chart) -> dict[str, str]:
    """What colour each value of the chart's colour field is drawn in."""
    scale = chart.to_dict()["encoding"]["color"]["scale"]
    return dict(zip(scale["domain"], scale["range"]))


def test_every_chart_colours_a_backend_the_same_way() -> None:
    zero, few = charts.BACKEND_COLORS
    for chart in (charts.volume_chart(_series()), charts.score_chart(_series())):
        assert _colour_of(chart) == {"zero-shot": zero, "few-shot": few}
    # The latency chart colours each line (backend × percentile) in its backend's colour.
    assert _colour_of(charts.latency_chart(_series())) == {
        "zero-shot p50": zero, "zero-shot p95": zero, "few-shot p50": few, "few-shot p95": few,
    }


def test_latency_lines_have_one_legend_of_line_samples_solid_p50_and_dashed_p95() -> None:
    encoding = charts.latency_chart(_series()).to_dict()["encoding"]
    # Colour and dash on the same field: Vega-Lite draws a single legend whose symbols carry both.
    assert encoding["color"]["field"] == encoding["strokeDash"]["field"] == "series"
    assert encoding["color"]["legend"]["symbolType"] == "stroke"
    dashes = dict(zip(encoding["strokeDash"]["scale"]["domain"], encoding["strokeDash"]["scale"]["range"]))
    assert dashes["few-shot p50"] == [1, 0] and dashes["few-shot p95"] != [1, 0]


def test_volume_bars_span_their_bucket_and_time_ticks_are_no_closer_than_a_bucket() -> None:
    chart = charts.volume_chart(_series(), "day")
    spec = chart.to_dict()
    assert spec["encoding"]["x2"]["field"] == "bucket_end"
    widths = chart.data["bucket_end"] - chart.data["bucket"]
    assert (widths > pd.Timedelta(hours=12)).all() and (widths < pd.Timedelta(days=1)).all()
    assert spec["encoding"]["x"]["axis"]["tickMinStep"] == 86_400_000


def test_chart_titles_sit_close_to_their_legend() -> None:
    for chart in (charts.volume_chart(_series()), charts.latency_chart(_series()), charts.score_chart(_series())):
        spec = chart.to_dict()
        assert spec["title"]["offset"] < 26  # Streamlit's theme default, which leaves a blank band
        legends = [legend for legend in _find(spec, "legend") if legend]
        assert all(legend["titleOrient"] == "left" for legend in legends)  # no empty title row above the symbols


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


@pytest.mark.parametrize(
    ("current", "previous", "expected"),
    [
        (19_917, 83, "+19,834"),  # 240x the previous period: the difference, not "+23897%"
        (32, 7, "+25"),  # too few records before for a percentage to mean anything
        (500, 49, "+451"),  # more than 10x as many
        (490, 49, "+900%"),  # 10x exactly: still a percentage
        (997, 1_000, "-0.3%"),  # a small change keeps a decimal instead of reading "-0%"
        (12, 20, "-40%"),
    ],
)
def test_the_improvements_delta_is_a_percentage_only_when_the_previous_period_supports_one(
    current: int, previous: int, expected: str
) -> None:
    shown = {tile.label: tile.delta for tile in tiles({"count": current, "previous": {"count": previous}}, "x")}
    assert shown["Improvements"] == expected


def test_every_tile_gets_a_sparkline_and_latency_mixes_backends_by_their_counts() -> None:
    series = _series()
    series.loc[series["backend"] == "few-shot", "p50_latency_ms"] *= 2  # 2,400 ms zero-shot, 4,800 ms few-shot
    series.loc[(series["backend"] == "few-shot") & (series["bucket"] == series["bucket"].max()), "count"] = 30
    lines = sparklines(series)
    assert set(lines) == {tile.metric for tile in tiles({"count": 1}, "x")}
    assert lines["count"] == [20.0, 0.0, 40.0]
    assert lines["avg_confidence"] == [0.7, 0.7]  # the empty middle bucket draws no point
    assert lines["p50_latency_ms"] == [3_600.0, (2_400.0 * 10 + 4_800.0 * 30) / 40]


def test_a_change_that_rounds_to_zero_is_shown_as_no_change_without_an_arrow() -> None:
    current = {"count": 1_000, "avg_confidence": 0.7123, "avg_quality": 0.70001, "p50_latency_ms": 2_000.2}
    previous = {"count": 1_000, "avg_confidence": 0.71234, "avg_quality": 0.7, "p50_latency_ms": 2_000.0}
    shown = {tile.label: tile for tile in tiles({**current, "previous": previous}, "the previous 7 days")}
    for label in ("Improvements", "Avg confidence", "Avg quality", "p50 latency"):
        tile = shown[label]
        assert (tile.delta, tile.delta_color, tile.delta_arrow) == ("no change", "off", "off"), label
    changed = tiles({**current, "avg_confidence": 0.7, "previous": previous}, "x")[1]
    assert (changed.delta, changed.delta_color, changed.delta_arrow) == ("-0.012", "normal", "auto")


def test_latency_tiles_treat_an_increase_as_bad() -> None:
    colours = {tile.label: tile.delta_color for tile in tiles({"count": 1, "previous": None}, "x")}
    assert colours["p95 latency"] == "inverse" and colours["Improvements"] == "normal"


def _calibration_bins() -> pd.DataFrame:
    return pd.DataFrame({
        "backend": ["few-shot", "few-shot", "zero-shot"], "bin": [3, 9, 6], "bin_start": [0.3, 0.9, 0.6],
        "bin_end": [0.4, 1.0, 0.7], "count": [1, 2, 2], "avg_confidence": [0.3, 0.95, 0.62],
        "avg_quality": [0.5, 0.4, 0.62], "gap": [0.2, -0.55, 0.0],
    })


def test_calibration_chart_plots_quality_against_confidence_over_the_diagonal_with_counts() -> None:
    spec = charts.calibration_chart(_calibration_bins(), {"zero-shot": 0.0, "few-shot": 0.4333}).to_dict()
    layers = spec["layer"]
    diagonal = layers[0]
    assert diagonal["mark"]["strokeDash"] == [4, 4]
    points = [layer for layer in layers[1]["layer"] if layer["mark"]["type"] == "circle"][0]
    assert points["encoding"]["x"]["field"] == "avg_confidence" and points["encoding"]["y"]["field"] == "avg_quality"
    assert points["encoding"]["size"]["field"] == "count"
    assert points["encoding"]["x"]["scale"]["domain"] == [0, 1] and points["encoding"]["y"]["scale"]["domain"] == [0, 1]
    tooltips = {item["title"] for item in points["encoding"]["tooltip"]}
    assert {"Improvements", "Confidence bin", "Avg confidence", "Avg quality"} <= tooltips
    assert spec["title"]["subtitle"] == "ECE zero-shot 0.000 · few-shot 0.433 (0 = calibrated)"
    assert points["encoding"]["color"]["scale"]["range"] == charts.BACKEND_COLORS
    data = next(rows for rows in spec["datasets"].values() if rows and "bin_label" in rows[0])
    assert sorted(row["bin_label"] for row in data) == ["0.3–0.4", "0.6–0.7", "0.9–1.0"]


def test_calibration_chart_says_when_no_backend_has_scored_records() -> None:
    empty = _calibration_bins().iloc[0:0]
    spec = charts.calibration_chart(empty, {"zero-shot": None, "few-shot": None}).to_dict()
    assert spec["title"]["subtitle"] == "no record has both a confidence and a quality"
