"""The paired summary of one metric: Wilcoxon, rank-biserial, win/tie/loss and missing pairs."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from pipeline.statistics import (
    InsufficientData,
    InvalidParameter,
    MismatchedPairs,
    bootstrap_mean_difference_ci,
    paired_metric_summary,
    rank_biserial,
    wilcoxon_p_value,
)

ZERO_SHOT = [0.55, 0.60, 0.72, 0.40, 0.81, 0.66, 0.59, 0.70, 0.63, 0.48, 0.75, 0.52]
FEW_SHOT = [0.70, 0.58, 0.80, 0.61, 0.81, 0.79, 0.71, 0.69, 0.77, 0.66, 0.90, 0.60]


def test_summary_matches_numpy_scipy_and_the_bootstrap_on_fixed_data() -> None:
    summary = paired_metric_summary(ZERO_SHOT, FEW_SHOT, metric="quality", higher_is_better=True)
    differences = np.round(np.array(FEW_SHOT) - np.array(ZERO_SHOT), 9)
    assert summary.n_pairs == 12
    assert summary.mean_zero_shot == pytest.approx(np.mean(ZERO_SHOT))
    assert summary.mean_few_shot == pytest.approx(np.mean(FEW_SHOT))
    assert summary.median_zero_shot == pytest.approx(np.median(ZERO_SHOT))
    assert summary.median_few_shot == pytest.approx(np.median(FEW_SHOT))
    assert summary.mean_difference == pytest.approx(np.mean(FEW_SHOT) - np.mean(ZERO_SHOT))
    assert (summary.ci_low, summary.ci_high) == bootstrap_mean_difference_ci(differences, seed=0)
    assert summary.p_value == pytest.approx(stats.wilcoxon(differences, zero_method="wilcox").pvalue)
    assert summary.p_value_adjusted == summary.p_value
    # 9 pairs improved, 0.81 → 0.81 tied, 0.60 → 0.58 and 0.70 → 0.69 got worse.
    assert (summary.wins, summary.ties, summary.losses) == (9, 1, 2)


def test_wilcoxon_p_value_equals_the_exact_hand_computed_value() -> None:
    # Five positive differences: of the 2**5 equally likely sign patterns under no difference, only
    # "all positive" and "all negative" are as extreme, so p = 2 / 32.
    assert wilcoxon_p_value([0.1, 0.2, 0.3, 0.4, 0.5]) == pytest.approx(2 / 32)
    assert wilcoxon_p_value([0.1, 0.2, 0.3, 0.4, 0.5]) == pytest.approx(stats.wilcoxon([1, 2, 3, 4, 5]).pvalue)


SIGNED_RANK_CASES = {
    "ties and a zero, exact sign-flip test": [0.1, 0.1, -0.05, 0.2, 0.0, 0.1, 0.3, -0.1, 0.15],
    "thirteen with ties, exact sign-flip test": [1, 2, 2, -1, 3, 3, 3, 0, 4, -2, 5, 1, 2],
    "fourteen with ties, normal approximation": [1, 2, 2, -1, 3, 3, 3, 0, 4, -2, 5, 1, 2, 6],
    "twenty without ties, exact distribution": [i * (-1) ** (i % 4 == 0) * 0.01 for i in range(1, 21)],
    "sixty, normal approximation": [((i * 37) % 61 - 20) / 10 for i in range(60)],
}


@pytest.mark.parametrize("differences", SIGNED_RANK_CASES.values(), ids=SIGNED_RANK_CASES.keys())
def test_wilcoxon_p_value_equals_scipy_for_every_method_scipy_chooses(differences: list[float]) -> None:
    expected = stats.wilcoxon(differences, zero_method="wilcox", alternative="two-sided").pvalue
    assert wilcoxon_p_value(differences) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("n", [1, 5, 30])
def test_all_zero_differences_give_p_of_one_where_scipy_divides_by_zero(n: int) -> None:
    assert wilcoxon_p_value([0.0] * n) == 1.0


def test_rank_biserial_equals_the_hand_computation() -> None:
    # Non-zero differences 1, -2, 3, 3 (the 0 is left out); ranks of |d|: 1, 2, 3.5, 3.5.
    # Positive rank sum 1 + 3.5 + 3.5 = 8, negative 2, total 10: r = (8 - 2) / 10.
    assert rank_biserial([1.0, -2.0, 3.0, 0.0, 3.0]) == pytest.approx(0.6)
    # The smaller rank sum is scipy's Wilcoxon statistic: the same ranking.
    assert stats.wilcoxon([1.0, -2.0, 3.0, 0.0, 3.0], zero_method="wilcox").statistic == 2.0
    assert rank_biserial([-1.0, 2.0, -3.0, 0.0, -3.0]) == pytest.approx(-0.6)


def test_effect_size_is_positive_when_few_shot_is_larger_even_if_larger_is_worse() -> None:
    latency = paired_metric_summary([900, 1000, 1100], [1300, 1350, 1500], metric="latency_ms", higher_is_better=False)
    assert latency.effect_size == 1.0
    assert (latency.wins, latency.ties, latency.losses) == (0, 0, 3)


def test_slower_few_shot_counts_as_losses_for_latency() -> None:
    zero = [1000.0, 1200.0, 900.0, 1100.0]
    few = [1400.0, 1150.0, 1300.0, 1100.0]
    summary = paired_metric_summary(zero, few, metric="latency_ms", higher_is_better=False)
    assert (summary.wins, summary.ties, summary.losses) == (1, 1, 2)
    assert summary.mean_difference == pytest.approx(187.5)


def test_differences_equal_in_decimal_but_not_in_binary_are_tied_for_ranking() -> None:
    # 0.8 - 0.7 and 0.7 - 0.6 differ in the last bit; 0.1 + 0.2 - 0.3 is 5.6e-17, not a win.
    summary = paired_metric_summary([0.7, 0.6, 0.3], [0.8, 0.7, 0.1 + 0.2], metric="quality", higher_is_better=True)
    assert (summary.wins, summary.ties, summary.losses) == (2, 1, 0)
    assert summary.effect_size == 1.0
    assert summary.p_value == pytest.approx(stats.wilcoxon([1, 1]).pvalue)


def test_equal_differences_give_that_value_as_interval_and_no_nan_anywhere() -> None:
    summary = paired_metric_summary([0.5] * 12, [0.7] * 12, metric="quality", higher_is_better=True)
    assert summary.ci_low == summary.ci_high == summary.mean_difference == pytest.approx(0.2)
    assert summary.effect_size == 1.0
    json.dumps(summary.to_dict(), allow_nan=False)


def test_identical_backends_give_p_of_one_zero_effect_and_all_ties() -> None:
    summary = paired_metric_summary([0.9] * 15, [0.9] * 15, metric="quality", higher_is_better=True)
    assert (summary.mean_difference, summary.ci_low, summary.ci_high) == (0.0, 0.0, 0.0)
    assert (summary.p_value, summary.effect_size) == (1.0, 0.0)
    assert (summary.wins, summary.ties, summary.losses) == (0, 15, 0)
    assert not any(isinstance(v, float) and math.isnan(v) for v in summary.to_dict().values())


def test_one_pair_is_summarised_with_its_difference_as_interval() -> None:
    summary = paired_metric_summary([0.4], [0.9], metric="quality", higher_is_better=True)
    assert summary.n_pairs == 1
    assert (summary.ci_low, summary.ci_high) == (pytest.approx(0.5), pytest.approx(0.5))
    assert summary.p_value == 1.0


def test_pairs_with_a_missing_side_are_dropped_and_counted() -> None:
    zero = [0.5, None, 0.6, float("nan"), 0.7, 0.4]
    few = [0.6, 0.8, None, 0.9, 0.75, 0.5]
    summary = paired_metric_summary(zero, few, metric="quality", higher_is_better=True)
    assert (summary.n_pairs, summary.n_dropped) == (3, 3)
    assert summary.mean_zero_shot == pytest.approx(np.mean([0.5, 0.7, 0.4]))
    assert summary.mean_few_shot == pytest.approx(np.mean([0.6, 0.75, 0.5]))


def test_pandas_missing_values_count_as_dropped_pairs_and_text_is_refused() -> None:
    zero = pd.Series([0.5, None, 0.6, 0.7], dtype="Float64")
    few = pd.Series([0.6, 0.7, pd.NA, 0.9], dtype="Float64")
    summary = paired_metric_summary(zero, few, metric="quality", higher_is_better=True)
    assert (summary.n_pairs, summary.n_dropped, summary.wins) == (2, 2, 2)
    with pytest.raises(InvalidParameter, match="index 1 is not a number: 'high'"):
        paired_metric_summary([0.5, "high"], [0.6, 0.7], metric="quality", higher_is_better=True)


def test_no_complete_pair_raises_insufficient_data_naming_the_metric() -> None:
    with pytest.raises(InsufficientData, match="confidence"):
        paired_metric_summary([None, 0.5], [0.7, None], metric="confidence", higher_is_better=True)
    with pytest.raises(InsufficientData):
        paired_metric_summary([], [], metric="quality", higher_is_better=True)


def test_sequences_of_different_length_are_refused() -> None:
    with pytest.raises(MismatchedPairs, match="3 values"):
        paired_metric_summary([0.5, 0.6, 0.7], [0.5, 0.6], metric="quality", higher_is_better=True)


def test_to_dict_holds_only_plain_json_values() -> None:
    summary = paired_metric_summary(np.array(ZERO_SHOT), np.array(FEW_SHOT), metric="quality", higher_is_better=True)
    as_dict = summary.to_dict()
    assert {type(v) for v in as_dict.values()} <= {int, float, bool, str}
    assert json.loads(json.dumps(as_dict, allow_nan=False))["wins"] == 9
