"""The demo-data generator: realistic, valid, deterministic synthetic history."""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from prompt_improver.demo import generate_demo_records
from store.record import BackendType, PromptHistory

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)


def test_same_seed_and_moment_give_the_same_records():
    first = list(generate_demo_records(300, seed=7, now=NOW))
    second = list(generate_demo_records(300, seed=7, now=NOW))
    assert first == second


def test_another_seed_gives_other_records():
    first = [record.original_idea for record in generate_demo_records(300, seed=1, now=NOW)]
    second = [record.original_idea for record in generate_demo_records(300, seed=2, now=NOW)]
    assert first != second


def test_generates_exactly_the_requested_number_of_valid_demo_records():
    records = list(generate_demo_records(2_000, days=30, seed=3, now=NOW))
    assert len(records) == 2_000
    assert all(isinstance(record, PromptHistory) for record in records)
    assert {record.model_version for record in records} == {"demo"}
    assert all(3 <= len(record.guardrails) <= 6 for record in records)
    assert all(len(set(record.guardrails)) == len(record.guardrails) for record in records)
    assert all(record.improved_prompt.count("\n- ") == len(record.guardrails) for record in records)
    assert len({record.uid for record in records}) == 2_000
    assert all(record.id is None for record in records)


def test_zero_rows_yield_nothing():
    assert list(generate_demo_records(0, now=NOW)) == []


def test_both_backends_appear_and_few_shot_is_more_confident_and_slower():
    records = list(generate_demo_records(5_000, seed=11, now=NOW))
    by_backend = {backend: [r for r in records if r.backend is backend] for backend in BackendType}
    assert all(len(group) > 1_000 for group in by_backend.values())

    def mean_confidence(group):
        return statistics.mean(r.confidence for r in group if r.confidence is not None)

    few, zero = by_backend[BackendType.FEW_SHOT], by_backend[BackendType.ZERO_SHOT]
    assert mean_confidence(few) > mean_confidence(zero) + 0.05
    assert statistics.mean(r.quality for r in few) > statistics.mean(r.quality for r in zero)
    assert statistics.median(r.latency_ms for r in few) > statistics.median(r.latency_ms for r in zero)


def test_latency_spans_hundreds_of_milliseconds_to_tens_of_seconds():
    latencies = sorted(record.latency_ms for record in generate_demo_records(5_000, seed=5, now=NOW))
    assert 100 <= latencies[0] < 1_000
    assert 1_000 < statistics.median(latencies) < 5_000
    assert latencies[-1] > 10_000


def test_timestamps_lie_inside_the_window_oldest_first():
    records = list(generate_demo_records(3_000, days=14, seed=2, now=NOW))
    stamps = [record.timestamp for record in records]
    assert NOW - timedelta(days=14) <= stamps[0]
    assert stamps[-1] <= NOW
    assert stamps == sorted(stamps)
    assert stamps[-1] - stamps[0] > timedelta(days=13)


def test_weekends_and_nights_are_quieter():
    records = list(generate_demo_records(20_000, days=28, seed=4, now=NOW))
    weekdays = Counter(record.timestamp.weekday() for record in records)
    hours = Counter(record.timestamp.hour for record in records)
    assert max(weekdays[5], weekdays[6]) < min(weekdays[day] for day in range(5))
    assert hours[3] * 4 < hours[14]


def test_runs_at_different_moments_do_not_reuse_uids():
    earlier = {record.uid for record in generate_demo_records(100, seed=0, now=NOW)}
    later = {record.uid for record in generate_demo_records(100, seed=0, now=NOW + timedelta(seconds=1))}
    assert not earlier & later


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"rows": -1}, "rows must be a whole number >= 0, got -1"),
        ({"rows": 10, "days": 0}, "days must be a whole number from 1 to 36,500, got 0"),
        ({"rows": 10, "days": 36_501}, "days must be a whole number from 1 to 36,500, got 36501"),
        ({"rows": 10, "now": datetime(2026, 1, 1)}, "now must be timezone-aware"),
    ],
)
def test_bad_arguments_are_refused_by_name(kwargs, message):
    rows = kwargs.pop("rows")
    with pytest.raises(ValueError, match=message):
        generate_demo_records(rows, **kwargs)
