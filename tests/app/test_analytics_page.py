"""The Analytics page: filters kept in the URL, exact KPIs, deltas, and a helpful empty state."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from pathlib import Path

import pytest
from streamlit.proto.Metric_pb2 import Metric

from prompt_improver.settings import load_settings
from prompt_improver.wiring import open_repository
from store.record import BackendType
from store.timestamps import utc_now
from tests.app._support import open_app, texts
from tests.support.builders import make_record

ANALYTICS = "views/analytics.py"


def _noon(days_ago: int) -> datetime:
    return datetime.combine(utc_now().date() - timedelta(days=days_ago), time(12), tzinfo=timezone.utc)


def _seed(db_path: Path) -> None:
    """At noon UTC: 3 few-shot and 2 zero-shot in the last 7 days (days 0-4), 2 few-shot 9 and 10 days
    ago, and one record 200 days ago."""
    records = [make_record(backend=BackendType.FEW_SHOT, confidence=0.9, timestamp=_noon(d)) for d in (0, 2, 4)]
    records += [make_record(backend=BackendType.ZERO_SHOT, confidence=0.6, timestamp=_noon(d)) for d in (1, 3)]
    records += [make_record(backend=BackendType.FEW_SHOT, confidence=0.8, timestamp=_noon(d)) for d in (9, 10)]
    records.append(make_record(timestamp=_noon(200)))
    open_repository(load_settings(sqlite_db_path=db_path)).save_many(records)


def _metrics(at) -> dict[str, tuple[str, str | None]]:
    return {metric.label: (metric.value, metric.delta or None) for metric in at.metric}


def test_a_bookmarked_view_opens_with_its_filters_and_widget_changes_update_the_url(app_db: Path) -> None:
    _seed(app_db)
    at = open_app()
    at.query_params["range"] = "7d"
    at.query_params["backend"] = "few-shot"
    at.switch_page(ANALYTICS).run()
    assert not at.exception
    assert at.segmented_control(key="analytics_range").value == "7d"
    assert at.selectbox(key="analytics_backend").value == "few-shot"
    # 3 few-shot this week, 2 the week before: too few for a percentage, so the difference in records
    assert _metrics(at)["Improvements"] == ("3", "+1")
    assert _metrics(at)["Avg confidence"][0] == "0.900"

    at.segmented_control(key="analytics_range").set_value("all").run()
    at.selectbox(key="analytics_backend").set_value("all").run()
    assert not at.exception
    assert at.query_params == {"range": "all"}
    assert _metrics(at)["Improvements"] == ("8", None)  # all time has no previous period

    at.segmented_control(key="analytics_range").set_value("30d").run()
    assert at.query_params == {}  # the default view keeps the URL clean


def test_a_custom_range_round_trips_through_the_url(app_db: Path) -> None:
    _seed(app_db)
    today = utc_now().date()
    at = open_app()
    at.query_params.update({"range": "custom", "from": (today - timedelta(days=3)).isoformat(), "to": today.isoformat()})
    at.switch_page(ANALYTICS).run()
    assert not at.exception
    assert at.segmented_control(key="analytics_range").value == "custom"
    assert at.date_input(key="analytics_dates").value == (today - timedelta(days=3), today)
    assert _metrics(at)["Improvements"][0] == "4"  # days 0 to 3, both ends included
    assert at.query_params["from"] == (today - timedelta(days=3)).isoformat()


def test_invalid_url_parameters_fall_back_to_the_default_view(app_db: Path) -> None:
    _seed(app_db)
    at = open_app()
    at.query_params.update({"range": "forever", "backend": "<script>", "from": "yesterday"})
    at.switch_page(ANALYTICS).run()
    assert not at.exception
    assert at.segmented_control(key="analytics_range").value == "30d"
    assert at.selectbox(key="analytics_backend").value == "all"
    assert _metrics(at)["Improvements"][0] == "7"


def test_a_range_without_records_shows_a_helpful_empty_state(app_db: Path) -> None:
    _seed(app_db)
    today = utc_now().date()
    at = open_app()
    at.query_params.update({"range": "custom", "from": (today - timedelta(days=150)).isoformat(),
                            "to": (today - timedelta(days=120)).isoformat()})
    at.switch_page(ANALYTICS).run()
    assert not at.exception
    assert not at.metric and not at.get("vega_lite_chart")
    page = texts(at)
    assert "No improvements match" in page and "All time" in page and "8 record(s) in all" in page


def _seed_calibration(db_path: Path, *, older_version: int | None = None) -> None:
    """Few-shot over-confident (confidence 0.9, quality 0.4), zero-shot calibrated (0.6, 0.6), in the last week."""
    from pipeline.quality import METRIC_VERSION

    records = [make_record(backend=BackendType.FEW_SHOT, confidence=0.9, quality=0.4, metric_version=METRIC_VERSION,
                           timestamp=_noon(d)) for d in (0, 1, 2)]
    records += [make_record(backend=BackendType.ZERO_SHOT, confidence=0.6, quality=0.6, metric_version=METRIC_VERSION,
                            timestamp=_noon(d)) for d in (1, 2)]
    if older_version is not None:
        records.append(make_record(confidence=0.5, quality=0.9, metric_version=older_version, timestamp=_noon(3)))
    open_repository(load_settings(sqlite_db_path=db_path)).save_many(records)


def test_the_calibration_view_shows_the_reliability_curve_and_the_ece_per_backend(app_db: Path) -> None:
    _seed_calibration(app_db)
    at = open_app(ANALYTICS)
    assert not at.exception
    assert "Calibration" in [header.value for header in at.subheader]
    table = next(frame.value for frame in at.dataframe if "ECE" in frame.value.columns)
    ece = dict(zip(table["Backend"], table["ECE"]))
    assert ece["few-shot"] == pytest.approx(0.5) and ece["zero-shot"] == pytest.approx(0.0, abs=1e-9)
    assert dict(zip(table["Backend"], table["Scored records"])) == {"zero-shot": 2, "few-shot": 3}
    assert "metric versions are mixed" not in texts(at)  # every score is from the current metric


def test_analytics_says_when_quality_scores_of_different_metric_versions_are_mixed(app_db: Path) -> None:
    _seed_calibration(app_db, older_version=1)
    at = open_app(ANALYTICS)
    assert not at.exception
    warning = " ".join(str(element.value) for element in at.warning)
    assert "2 metric versions are mixed" in warning
    assert "5 by the current metric" in warning and "1 by metric v1" in warning and "rescore" in warning


def test_experiment_runs_are_left_out_until_the_toggle_includes_them_and_the_url_keeps_it(app_db: Path) -> None:
    _seed(app_db)
    runs = [make_record(confidence=0.1, timestamp=_noon(1), experiment_id="exp1") for _ in range(4)]
    open_repository(load_settings(sqlite_db_path=app_db)).save_many(runs)
    at = open_app()
    at.query_params["range"] = "7d"
    at.switch_page(ANALYTICS).run()
    assert not at.exception
    toggle = at.toggle(key="analytics_experiments")
    assert toggle.label == "Include experiment runs" and toggle.value is False
    assert _metrics(at)["Improvements"][0] == "5"  # the user's own records only
    toggle.set_value(True).run()
    assert not at.exception
    assert _metrics(at)["Improvements"][0] == "9"
    assert at.query_params["experiments"] == "include"
    assert "with experiment runs" in texts(at)

    bookmarked = open_app()
    bookmarked.query_params.update({"range": "7d", "experiments": "include"})
    bookmarked.switch_page(ANALYTICS).run()
    assert bookmarked.toggle(key="analytics_experiments").value is True
    assert _metrics(bookmarked)["Improvements"][0] == "9"


def test_a_change_that_rounds_to_zero_shows_as_no_change(app_db: Path) -> None:
    records = [make_record(confidence=0.7, quality=0.5, timestamp=_noon(d)) for d in (1, 2)]  # this week
    records += [make_record(confidence=0.70001, quality=0.5, timestamp=_noon(d)) for d in (8, 9)]  # the week before
    open_repository(load_settings(sqlite_db_path=app_db)).save_many(records)
    at = open_app()
    at.query_params["range"] = "7d"
    at.switch_page(ANALYTICS).run()
    assert not at.exception
    confidence = next(metric for metric in at.metric if metric.label == "Avg confidence")
    assert confidence.delta == "no change"
    # Grey with no arrow (before: a red down arrow and "-0.000").
    assert (confidence.proto.direction, confidence.proto.color) == (Metric.MetricDirection.NONE, Metric.MetricColor.GRAY)


def test_the_date_controls_say_what_n_days_means(app_db: Path) -> None:
    _seed(app_db)
    at = open_app(ANALYTICS)
    assert "N calendar days in UTC, today included" in at.segmented_control(key="analytics_range").help
    settings = open_app("views/settings.py")
    assert not settings.exception
    assert "N calendar days in UTC, today included" in settings.number_input(key="settings_retention_days").help


def test_the_raw_records_download_of_the_range_shows_its_progress_and_counts_the_range(app_db: Path) -> None:
    _seed(app_db)
    at = open_app(ANALYTICS)
    at.segmented_control(key="analytics_range").set_value("7d").run()
    at.button(key="analytics_download_records_prepare").click().run()
    assert not at.exception
    (bar,) = at.get("progress")
    assert bar.proto.value == 100 and bar.proto.text.startswith("CSV ready: 5 records")  # the 7 days' five
    labels = [button.proto.label for button in at.get("download_button")]
    assert labels == ["Summary report (CSV)", "Download raw records (CSV)"]
