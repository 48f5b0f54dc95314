"""The comparison a user reads: verdict wording, the fewer-than-10-pairs warning, Holm, the JSON shape."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from scipy import stats

from pipeline.statistics import (
    InsufficientData,
    UnknownMetric,
    compare_paired,
    holm_adjust,
    paired_metric_summary,
)
from pipeline.statistics.verdict import format_p, is_detected

CONTRACT_KEYS = {
    "mean_zero_shot", "mean_few_shot", "mean_difference", "ci_low", "ci_high", "p_value",
    "p_value_adjusted", "effect_size", "wins", "ties", "losses",
}


def _shifted(base: list[float], differences: list[float]) -> tuple[list[float], list[float]]:
    return base, [b + d for b, d in zip(base, differences)]


def _signed_ranks(negative: set[int], n: int = 10, scale: float = 0.01) -> list[float]:
    """Differences 1..n (times scale) with the given ranks made negative: a chosen exact Wilcoxon p."""
    return [(-r if r in negative else r) * scale for r in range(1, n + 1)]


# Thirty items: few-shot about 0.1 better on quality, 400 ms slower, no change in confidence.
RNG = np.random.default_rng(2024)
QUALITY_ZERO = np.round(RNG.uniform(0.4, 0.8, 30), 3)
QUALITY_FEW = np.round(QUALITY_ZERO + RNG.normal(0.1, 0.08, 30), 3)
CONFIDENCE_ZERO = np.round(RNG.uniform(0.5, 0.9, 30), 3)
CONFIDENCE_FEW = np.round(CONFIDENCE_ZERO + RNG.normal(0.0, 0.05, 30), 3)
LATENCY_ZERO = np.round(RNG.normal(1500, 200, 30))
LATENCY_FEW = np.round(LATENCY_ZERO + RNG.normal(400, 150, 30))
EXPERIMENT = {
    "quality": (QUALITY_ZERO, QUALITY_FEW),
    "confidence": (CONFIDENCE_ZERO, CONFIDENCE_FEW),
    "latency_ms": (LATENCY_ZERO, LATENCY_FEW),
}


def test_verdict_states_better_quality_and_slower_latency_with_interval_p_and_n() -> None:
    comparison = compare_paired(EXPERIMENT)
    quality, latency = comparison.metric("quality"), comparison.metric("latency_ms")
    assert quality.ci_low > 0 and latency.ci_low > 0
    expected_quality = (
        f"few-shot is better on quality by {quality.mean_difference:+.2f} "
        f"[{quality.ci_low:+.2f}, {quality.ci_high:+.2f}] (p < 0.001, n = 30)"
    )
    expected_latency = (
        f"few-shot is slower by {latency.mean_difference:+.0f} ms "
        f"[{latency.ci_low:+.0f}, {latency.ci_high:+.0f}] (p < 0.001, n = 30)"
    )
    assert comparison.verdict == f"{expected_quality}; {expected_latency}; no detectable difference in confidence (n = 30)"
    assert comparison.warning is None
    assert (latency.wins, latency.losses) == (0, 30)


def test_verdict_states_worse_quality_when_few_shot_scores_lower() -> None:
    zero, few = _shifted([0.7] * 12, [-0.2, -0.1, -0.15, -0.05, -0.3, -0.12, -0.08, -0.2, -0.1, -0.25, -0.02, -0.18])
    comparison = compare_paired({"quality": (zero, few)})
    summary = comparison.metric("quality")
    assert summary.p_value == pytest.approx(stats.wilcoxon(np.subtract(few, zero)).pvalue)
    assert comparison.verdict.startswith(f"few-shot is worse on quality by {summary.mean_difference:+.2f} [")
    # Twelve negative differences with ties: the exact sign-flip p is 2 / 2**12 (all negative or all positive).
    assert summary.p_value == pytest.approx(2 / 2**12)
    assert comparison.verdict.endswith("(p < 0.001, n = 12)")


def test_faster_few_shot_is_worded_faster() -> None:
    zero = [1000.0 + 10 * i for i in range(12)]
    few = [z - 150 - 7 * i for i, z in enumerate(zero)]
    assert compare_paired({"latency_ms": (zero, few)}).verdict.startswith("few-shot is faster by -")


def test_no_detectable_difference_when_interval_contains_zero() -> None:
    zero, few = _shifted([0.6] * 12, [0.05, -0.04, 0.02, -0.03, 0.01, 0.0, -0.02, 0.03, -0.05, 0.04, -0.01, 0.02])
    comparison = compare_paired({"quality": (zero, few)})
    summary = comparison.metric("quality")
    assert summary.ci_low < 0 < summary.ci_high
    assert comparison.verdict == "no detectable difference in quality (n = 12)"
    assert comparison.to_dict()["metrics"]["quality"]["detected"] is False


def test_undetected_metrics_with_the_same_n_share_one_sentence() -> None:
    flat = ([0.5] * 12, [0.5] * 12)
    comparison = compare_paired({"quality": flat, "confidence": flat, "latency_ms": ([900.0] * 12, [900.0] * 12)})
    assert comparison.verdict == "no detectable difference in quality, confidence or latency (n = 12)"


def test_fewer_than_ten_pairs_gives_a_plain_warning() -> None:
    zero, few = _shifted([0.5] * 7, [0.1, 0.2, 0.15, 0.1, 0.3, 0.2, 0.1])
    comparison = compare_paired({"quality": (zero, few)})
    assert comparison.n_pairs == 7
    assert comparison.warning is not None and comparison.warning.startswith("Only 7 pairs: with fewer than 10 pairs")
    # Repeats are averaged per idea (one pair per idea), so only more ideas help: the advice must say so.
    assert "add evaluation ideas" in comparison.warning and "or repeats" not in comparison.warning
    assert compare_paired({"quality": _shifted([0.5] * 10, [0.1] * 10)}).warning is None


def test_five_pairs_warn_that_no_difference_can_be_significant() -> None:
    comparison = compare_paired({"quality": _shifted([0.5] * 5, [0.1, 0.2, 0.3, 0.4, 0.5])})
    assert comparison.metric("quality").p_value == pytest.approx(2 / 2**5)
    assert "no difference can reach p < 0.05" in comparison.warning
    assert comparison.verdict == (
        "too few pairs to decide (n = 5) on quality: add at least 5 more evaluation ideas "
        "(more repeats of the same ideas add no pairs)"
    )


def test_holm_turns_a_raw_p_of_0_04_into_no_detectable_difference_among_three_metrics() -> None:
    base = [0.5] * 10
    quality = _shifted(base, _signed_ranks({7}))  # exact p = 38/1024 ≈ 0.037
    confidence = _shifted(base, _signed_ranks({6}))  # exact p = 28/1024 ≈ 0.027
    latency = _shifted([1000.0] * 10, _signed_ranks({1, 9, 10}, scale=10.0))  # p ≈ 0.49
    alone = compare_paired({"quality": quality})
    assert alone.metric("quality").p_value == pytest.approx(stats.wilcoxon(_signed_ranks({7})).pvalue)
    assert alone.metric("quality").p_value == pytest.approx(0.037, abs=0.001)
    assert alone.verdict.startswith("few-shot is better on quality by +0.04 [")

    together = compare_paired({"quality": quality, "confidence": confidence, "latency_ms": latency})
    raw = [together.metric(m).p_value for m in ("quality", "confidence", "latency_ms")]
    assert raw[1] == pytest.approx(0.027, abs=0.001) and 0.4 < raw[2] < 0.6
    assert [together.metric(m).p_value_adjusted for m in ("quality", "confidence", "latency_ms")] == holm_adjust(raw)
    assert together.metric("quality").p_value_adjusted == pytest.approx(3 * raw[1])
    assert together.verdict == "no detectable difference in quality, confidence or latency (n = 10)"


def test_detection_needs_both_adjusted_p_below_alpha_and_an_interval_excluding_zero() -> None:
    summary = paired_metric_summary([0.5] * 10, [0.5 + d for d in _signed_ranks({7})], metric="quality", higher_is_better=True)
    assert is_detected(summary)
    assert not is_detected(replace(summary, p_value_adjusted=0.06))
    assert not is_detected(replace(summary, ci_low=-0.001))


@pytest.mark.parametrize(("p", "text"), [(0.0004, "p < 0.001"), (0.002, "p = 0.002"), (0.0496, "p = 0.0496"), (0.5, "p = 0.500")])
def test_p_values_are_printed_without_rounding_across_alpha(p: float, text: str) -> None:
    assert format_p(p) == text


def test_json_shape_matches_the_command_line_contract_and_has_no_nan() -> None:
    as_dict = compare_paired(EXPERIMENT).to_dict()
    encoded = json.loads(json.dumps(as_dict, allow_nan=False))
    assert {"n_pairs", "verdict", "warning", "metrics"} <= set(encoded)
    assert set(encoded["metrics"]) == {"quality", "confidence", "latency_ms"}
    for values in encoded["metrics"].values():
        assert CONTRACT_KEYS <= set(values)
    assert encoded["metrics"]["quality"]["mean_difference"] == pytest.approx(np.mean(QUALITY_FEW - QUALITY_ZERO))


def test_dropped_pairs_are_counted_and_warned_about() -> None:
    zero = list(QUALITY_ZERO[:12]) + [None, 0.5]
    few = list(QUALITY_FEW[:12]) + [0.7, float("nan")]
    comparison = compare_paired({"quality": (zero, few)})
    assert (comparison.n_pairs, comparison.metric("quality").n_dropped) == (12, 2)
    assert comparison.warning == "2 pairs left out of quality for a missing value."


def test_a_metric_without_any_complete_pair_is_reported_empty_not_dropped_from_json() -> None:
    comparison = compare_paired({"quality": EXPERIMENT["quality"], "confidence": ([None] * 30, list(CONFIDENCE_FEW))})
    entry = comparison.to_dict()["metrics"]["confidence"]
    assert entry["n_pairs"] == 0 and entry["mean_difference"] is None and entry["p_value_adjusted"] is None
    assert "No pair has both values for confidence" in comparison.warning
    assert comparison.metric("quality").p_value_adjusted == comparison.metric("quality").p_value


def test_n_pairs_is_that_of_quality_and_otherwise_the_largest() -> None:
    with_missing_latency = ([1000.0] * 12, [1100.0] * 11 + [None])
    assert compare_paired({"quality": _shifted([0.5] * 12, [0.1] * 12), "latency_ms": with_missing_latency}).n_pairs == 12
    assert compare_paired({"confidence": _shifted([0.5] * 9, [0.1] * 9), "latency_ms": with_missing_latency}).n_pairs == 11


def test_nothing_to_compare_and_unknown_metrics_are_refused() -> None:
    with pytest.raises(InsufficientData):
        compare_paired({"quality": ([None, None], [0.5, 0.6])})
    with pytest.raises(InsufficientData):
        compare_paired({})
    with pytest.raises(UnknownMetric, match="tokens"):
        compare_paired({"tokens": ([1.0], [2.0])})
    assert compare_paired({"tokens": ([1.0], [2.0])}, higher_is_better={"tokens": False}).metric("tokens").losses == 1


def test_a_large_consistent_difference_in_four_pairs_is_too_few_to_decide_not_no_difference() -> None:
    # The case a user met: +0.28 [+0.27, +0.31], four wins of four, under "no detectable difference".
    zero = [0.50, 0.55, 0.60, 0.45]
    few = [0.78, 0.82, 0.91, 0.73]
    comparison = compare_paired({"quality": (zero, few), "latency_ms": ([900.0] * 4, [950.0, 1000.0, 905.0, 1100.0])})
    quality = comparison.metric("quality")
    assert quality.ci_low > 0.2 and quality.wins == 4
    assert comparison.verdict == (
        "too few pairs to decide (n = 4) on quality or latency: add at least 6 more evaluation ideas "
        "(more repeats of the same ideas add no pairs)"
    )
    assert "no detectable difference" not in comparison.verdict
