"""The domain record's invariants and derived values."""

from datetime import datetime, timedelta, timezone

import pytest

from store.errors import InvalidRecord
from store.record import BackendType, PromptHistory
from tests.support.builders import make_record


def test_record_names_the_field_and_value_for_a_too_short_idea():
    with pytest.raises(InvalidRecord, match=r"original_idea.*'  ab c '"):
        make_record(original_idea="  ab c ")


@pytest.mark.parametrize("confidence", [-0.01, 1.01, float("nan")])
def test_record_refuses_confidence_outside_unit_interval(confidence):
    with pytest.raises(InvalidRecord, match="confidence"):
        make_record(confidence=confidence)


def test_record_refuses_negative_latency():
    with pytest.raises(InvalidRecord, match="latency_ms must be >= 0, got -1"):
        make_record(latency_ms=-1)


def test_record_refuses_nul_characters_with_their_position():
    with pytest.raises(InvalidRecord, match=r"context contains a NUL character.*index 3"):
        make_record(context="abc\x00def")


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"original_idea": "x" * 20_001}, "original_idea"),
        ({"context": "x" * 20_001}, "context"),
        ({"improved_prompt": "x" * 100_001}, "improved_prompt"),
        ({"guardrails": ["g"] * 51}, "guardrails"),
        ({"guardrails": ["g" * 2_001]}, r"guardrails\[0\]"),
    ],
)
def test_record_enforces_size_limits(overrides, field):
    with pytest.raises(InvalidRecord, match=field):
        make_record(**overrides)


def test_record_accepts_limits_exactly():
    record = make_record(original_idea="x" * 20_000, guardrails=["g" * 2_000] * 50)
    assert len(record.guardrails) == 50


def test_record_refuses_naive_timestamp():
    with pytest.raises(InvalidRecord, match="timezone-aware"):
        make_record(timestamp=datetime(2026, 1, 1))


def test_record_normalises_timestamp_to_utc():
    paris = timezone(timedelta(hours=1))
    record = make_record(timestamp=datetime(2026, 1, 1, 12, 0, tzinfo=paris))
    assert record.timestamp == datetime(2026, 1, 1, 11, 0, tzinfo=timezone.utc)
    assert record.timestamp.tzinfo == timezone.utc


def test_backend_accepts_the_original_spellings():
    assert make_record(backend="zero_shot").backend is BackendType.ZERO_SHOT
    assert make_record(backend="FEW-SHOT").backend is BackendType.FEW_SHOT
    with pytest.raises(InvalidRecord, match="backend"):
        make_record(backend="three-shot")


def test_guardrails_as_a_single_string_are_refused():
    with pytest.raises(InvalidRecord, match="single string"):
        make_record(guardrails="be nice")


def test_quality_score_subtracts_a_tenth_per_second_of_latency():
    # The original's `latency_ms or 0 / 10000` subtracted whole milliseconds; 2.5 s must cost 0.25.
    assert make_record(confidence=0.9, latency_ms=2_500).quality_score == pytest.approx(0.65)


def test_quality_score_caps_the_penalty_and_floors_at_zero():
    assert make_record(confidence=0.9, latency_ms=60_000).quality_score == pytest.approx(0.6)
    assert make_record(confidence=0.1, latency_ms=60_000).quality_score == 0.0


def test_quality_score_without_latency_is_the_confidence_and_none_without_confidence():
    assert make_record(confidence=0.7, latency_ms=None).quality_score == pytest.approx(0.7)
    assert make_record(confidence=None).quality_score is None


def test_record_is_immutable():
    record = make_record()
    with pytest.raises(AttributeError):
        record.confidence = 0.1  # type: ignore[misc]


def test_to_dict_uses_field_names_a_list_and_iso_timestamp():
    data = make_record().to_dict()
    assert data["guardrails"] == ["Keep it under 200 words", "No unverifiable claims", "Include one code sample"]
    assert data["timestamp"] == "2026-01-03T10:15:42.123456+00:00"
    assert data["backend"] == "few-shot"
    assert set(data) >= {f for f in PromptHistory.__slots__ if not f.startswith("_")}


@pytest.mark.parametrize("version", [0, -1, 1.0, "2", True])
def test_metric_version_must_be_a_positive_integer(version):
    with pytest.raises(InvalidRecord, match="metric_version"):
        make_record(quality=0.5, metric_version=version)


def test_a_metric_version_needs_the_quality_it_versions():
    with pytest.raises(InvalidRecord, match="no quality"):
        make_record(quality=None, metric_version=2)
    assert make_record(quality=0.5, metric_version=2).to_dict()["metric_version"] == 2
