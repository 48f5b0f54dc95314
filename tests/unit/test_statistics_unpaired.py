"""Unpaired history statistics: Mann–Whitney, Wilson intervals and the per-metric summary."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats

from pipeline.statistics import (
    InsufficientData,
    InvalidParameter,
    bootstrap_difference_ci,
    compare_unpaired,
    mann_whitney,
    wilson_interval,
)

ZERO_SHOT_QUALITY = [0.62, 0.81, 0.55, 0.90, 0.47, 0.73, 0.85, 0.66, 0.58, 0.80, 0.71, 0.69, 0.93, 0.50]
FEW_SHOT_QUALITY = [0.84, 0.77, 0.91, 0.88, 0.69, 0.95, 0.80, 0.86, 0.74, 0.82]


def test_mann_whitney_equals_the_exact_hand_computation() -> None:
    # a = [1, 2] below b = [3, 4]: U counts pairs with a > b, so 0. Of the C(4, 2) = 6 equally likely
    # splits only this one and its mirror are as extreme: p = 2 / 6.
    u, p = mann_whitney([1.0, 2.0], [3.0, 4.0])
    assert (u, p) == (0.0, pytest.approx(1 / 3))


def test_mann_whitney_equals_scipy_on_fixed_data_with_ties() -> None:
    expected = stats.mannwhitneyu(ZERO_SHOT_QUALITY, FEW_SHOT_QUALITY, alternative="two-sided")
    u, p = mann_whitney(ZERO_SHOT_QUALITY, FEW_SHOT_QUALITY)
    assert (u, p) == (pytest.approx(expected.statistic), pytest.approx(expected.pvalue, rel=1e-12))
    assert u + mann_whitney(FEW_SHOT_QUALITY, ZERO_SHOT_QUALITY)[0] == len(ZERO_SHOT_QUALITY) * len(FEW_SHOT_QUALITY)


def test_mann_whitney_of_identical_constant_groups_has_p_of_one() -> None:
    assert mann_whitney([0.8] * 4, [0.8] * 6)[1] == 1.0


def test_mann_whitney_refuses_an_empty_group() -> None:
    with pytest.raises(InsufficientData):
        mann_whitney([], [1.0])


def test_wilson_interval_equals_the_hand_computed_formula() -> None:
    # 7 of 20 at 95%: z = 1.959964, p̂ = 0.35, z² = 3.841459.
    # centre = (0.35 + 3.841459 / 40) / (1 + 3.841459 / 20) = 0.446036 / 1.192073 = 0.374169
    # half = 1.959964 × sqrt(0.35 × 0.65 / 20 + 3.841459 / 1600) / 1.192073 = 0.192977
    assert wilson_interval(7, 20) == (pytest.approx(0.181192, abs=1e-6), pytest.approx(0.567146, abs=1e-6))


@pytest.mark.parametrize(("successes", "n"), [(7, 20), (0, 5), (5, 5), (1, 1), (37, 120), (3, 1000)])
@pytest.mark.parametrize("confidence", [0.95, 0.8])
def test_wilson_interval_equals_scipy_binomtest(successes: int, n: int, confidence: float) -> None:
    expected = stats.binomtest(successes, n).proportion_ci(confidence_level=confidence, method="wilson")
    low, high = wilson_interval(successes, n, confidence)
    assert (low, high) == (pytest.approx(expected.low, abs=1e-12), pytest.approx(expected.high, abs=1e-12))
    assert 0.0 <= low <= successes / n <= high <= 1.0


def test_wilson_interval_refuses_impossible_counts() -> None:
    with pytest.raises(InsufficientData):
        wilson_interval(0, 0)
    with pytest.raises(InvalidParameter, match="cannot exceed"):
        wilson_interval(6, 5)
    with pytest.raises(InvalidParameter):
        wilson_interval(-1, 5)


def test_unpaired_quality_summary_on_fixed_data() -> None:
    summary = compare_unpaired(
        ZERO_SHOT_QUALITY + [None], FEW_SHOT_QUALITY + [float("nan")], metric="quality", higher_is_better=True, threshold=0.8
    )
    assert (summary.n_zero_shot, summary.n_few_shot, summary.n_dropped) == (14, 10, 2)
    assert summary.mean_zero_shot == pytest.approx(np.mean(ZERO_SHOT_QUALITY))
    assert summary.median_few_shot == pytest.approx(np.median(FEW_SHOT_QUALITY))
    assert summary.mean_difference == pytest.approx(np.mean(FEW_SHOT_QUALITY) - np.mean(ZERO_SHOT_QUALITY))
    assert (summary.ci_low, summary.ci_high) == bootstrap_difference_ci(ZERO_SHOT_QUALITY, FEW_SHOT_QUALITY)
    assert summary.p_value == pytest.approx(stats.mannwhitneyu(ZERO_SHOT_QUALITY, FEW_SHOT_QUALITY).pvalue)
    # Quality ≥ 0.8: 0.81, 0.90, 0.85, 0.80, 0.93 of zero-shot; 0.84, 0.91, 0.88, 0.95, 0.80, 0.86, 0.82 of few-shot.
    assert (summary.share_zero_shot, summary.share_few_shot) == (pytest.approx(5 / 14), pytest.approx(7 / 10))
    assert (summary.share_few_shot_low, summary.share_few_shot_high) == wilson_interval(7, 10)


def test_unpaired_latency_reports_p95_and_its_interval_and_counts_fast_records() -> None:
    zero = [820.0, 1010, 930, 1500, 760, 880, 990, 1210, 1050, 940, 870, 2600, 1000, 980]
    few = [1300.0, 1250, 1400, 1190, 1710, 1320, 1280, 3100, 1360, 1270]
    summary = compare_unpaired(zero, few, metric="latency_ms", higher_is_better=False, threshold=1000)
    assert summary.p95_zero_shot == pytest.approx(np.percentile(zero, 95))
    assert summary.p95_difference == pytest.approx(np.percentile(few, 95) - np.percentile(zero, 95))
    assert (summary.p95_ci_low, summary.p95_ci_high) == bootstrap_difference_ci(zero, few, "p95")
    # Lower is better: a run meets the threshold at or below it: 820, 930, 760, 880, 990, 940, 870, 1000
    # and 980 of the zero-shot runs (9 of 14), no few-shot run.
    assert (summary.share_zero_shot, summary.share_few_shot) == (pytest.approx(9 / 14), 0.0)


def test_unpaired_summary_without_threshold_has_no_shares_and_is_plain_json() -> None:
    as_dict = compare_unpaired([0.5] * 3, [0.5] * 4, metric="quality", higher_is_better=True).to_dict()
    assert as_dict["share_zero_shot"] is None
    assert (as_dict["ci_low"], as_dict["ci_high"], as_dict["p_value"]) == (0.0, 0.0, 1.0)
    json.dumps(as_dict, allow_nan=False)
    assert not any(isinstance(v, float) and math.isnan(v) for v in as_dict.values())


def test_unpaired_summary_needs_values_in_both_groups() -> None:
    with pytest.raises(InsufficientData, match="few-shot"):
        compare_unpaired([0.5, 0.6], [None], metric="quality", higher_is_better=True)
