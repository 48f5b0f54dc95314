"""The Analytics filter: presets resolve to inclusive UTC day ranges and survive a round trip through the URL."""

from __future__ import annotations

from datetime import date

import pytest

from dashboard import filters

TODAY = date(2026, 11, 26)


@pytest.mark.parametrize(
    ("preset", "start"),
    [("7d", date(2026, 11, 20)), ("30d", date(2026, 10, 28)), ("90d", date(2026, 8, 29)), ("365d", date(2025, 11, 27))],
)
def test_a_preset_of_n_days_covers_today_and_the_n_minus_one_days_before(preset: str, start: date) -> None:
    view = filters.preset_filter(preset, TODAY, None, None)
    assert (view.start, view.end) == (start, TODAY)
    assert view.days == int(preset[:-1])


def test_all_time_has_no_bounds_and_no_previous_period() -> None:
    view = filters.preset_filter("all", TODAY, None, None)
    assert (view.start, view.end, view.days, view.previous()) == (None, None, None, None)


def test_the_previous_period_has_the_same_length_and_ends_the_day_before() -> None:
    view = filters.preset_filter("7d", TODAY, None, None)
    assert view.previous() == (date(2026, 11, 13), date(2026, 11, 19))


@pytest.mark.parametrize(
    "view",
    [
        filters.preset_filter("30d", TODAY, None, None),
        filters.preset_filter("7d", TODAY, "few-shot", None),
        filters.preset_filter("all", TODAY, None, "openai/gpt-4o-mini"),
        filters.custom_filter(date(2026, 1, 1), date(2026, 1, 31), "zero-shot", "ollama_chat/qwen2.5"),
    ],
)
def test_a_view_round_trips_through_the_query_parameters(view: filters.ViewFilter) -> None:
    assert filters.from_query_params(filters.to_query_params(view), TODAY) == view


def test_the_default_view_has_an_empty_query_string() -> None:
    assert filters.to_query_params(filters.from_query_params({}, TODAY)) == {}


@pytest.mark.parametrize(
    "params",
    [
        {"range": "42d"},
        {"range": "custom"},
        {"range": "custom", "from": "2026-02-30", "to": "2026-03-01"},
        {"range": "custom", "from": "2026-03-05", "to": "2026-03-01"},
        {"range": ["7d", "<script>"]},
        {"backend": "one-shot"},
        {"model": "x" * 600},
    ],
)
def test_unreadable_parameters_fall_back_to_the_defaults(params: dict) -> None:
    view = filters.from_query_params(params, TODAY)
    default = filters.preset_filter(filters.DEFAULT_PRESET, TODAY, None, None)
    assert (view.start, view.end, view.backend, view.model) == (default.start, default.end, None, None)


def test_backend_spellings_are_normalised_and_a_valid_part_survives_a_bad_one() -> None:
    view = filters.from_query_params({"range": "7d", "backend": "FEW_SHOT", "model": "all"}, TODAY)
    assert (view.preset, view.backend, view.model) == ("7d", "few-shot", None)


def test_a_custom_range_given_backwards_is_swapped() -> None:
    view = filters.custom_filter(date(2026, 3, 5), date(2026, 3, 1), None, None)
    assert (view.start, view.end, view.days) == (date(2026, 3, 1), date(2026, 3, 5), 5)


def test_the_label_names_the_range_and_filters() -> None:
    view = filters.preset_filter("7d", TODAY, "few-shot", "demo")
    assert view.describe() == "Last 7 days (2026-11-20 – 2026-11-26, UTC) · few-shot · demo"
