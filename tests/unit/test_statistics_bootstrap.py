"""Bootstrap intervals: the textbook percentile bootstrap, exact on constant data, reproducible with a seed."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from pipeline.statistics import InsufficientData, InvalidParameter, bootstrap_difference_ci, bootstrap_mean_difference_ci

DIFFERENCES = [0.12, -0.05, 0.3, 0.08, 0.0, 0.21, -0.1, 0.15, 0.04, 0.09, 0.18, -0.02]


def _textbook_intervals(data: np.ndarray, seed: int, resamples: int = 2000, levels=(0.95,)) -> list[tuple]:
    # The textbook loop: draw n indices with replacement, average, repeat, take the alpha/2 and 1 - alpha/2
    # quantiles. With an even n each row uses whole 64-bit draws, so the loop sees scipy's indices.
    rng = np.random.default_rng(seed)
    means = [data[rng.integers(0, data.size, data.size)].mean() for _ in range(resamples)]
    return [tuple(np.quantile(means, [(1 - level) / 2, (1 + level) / 2])) for level in levels]


@pytest.mark.parametrize("seed", [0, 3, 7])
def test_paired_interval_equals_a_hand_rolled_resampling_loop(seed: int) -> None:
    expected_95, expected_90 = _textbook_intervals(np.array(DIFFERENCES), seed, levels=(0.95, 0.9))
    low, high = bootstrap_mean_difference_ci(DIFFERENCES, seed=seed)
    assert (low, high) == pytest.approx(expected_95, rel=1e-12)
    assert low < np.mean(DIFFERENCES) < high
    narrower = bootstrap_mean_difference_ci(DIFFERENCES, confidence=0.9, seed=seed)
    assert narrower == pytest.approx(expected_90, rel=1e-12)
    assert low < narrower[0] < narrower[1] < high  # a lower confidence gives a nested, narrower interval


def test_a_long_sample_gives_the_normal_theory_interval() -> None:
    # 3,000 values are resampled in two batches (bounded memory); the interval is then the textbook
    # mean +- 1.96 standard errors to within the Monte Carlo error of 2,000 resamples.
    data = np.random.default_rng(11).normal(400.0, 80.0, 3000)
    low, high = bootstrap_mean_difference_ci(data, seed=5)
    half_width = 1.96 * data.std(ddof=1) / np.sqrt(data.size)
    assert low == pytest.approx(data.mean() - half_width, abs=0.1 * half_width)
    assert high == pytest.approx(data.mean() + half_width, abs=0.1 * half_width)


def test_same_seed_gives_identical_interval_and_another_seed_a_different_one() -> None:
    first = bootstrap_mean_difference_ci(DIFFERENCES, seed=42)
    assert bootstrap_mean_difference_ci(DIFFERENCES, seed=42) == first
    assert bootstrap_mean_difference_ci(DIFFERENCES, seed=43) != first


def test_more_resamples_are_used_when_asked() -> None:
    (expected,) = _textbook_intervals(np.array(DIFFERENCES), 0, resamples=5000)
    assert bootstrap_mean_difference_ci(DIFFERENCES, resamples=5000) == pytest.approx(expected, rel=1e-12)
    assert bootstrap_mean_difference_ci(DIFFERENCES, resamples=5000) != bootstrap_mean_difference_ci(DIFFERENCES)


@pytest.mark.parametrize("value", [0.0, 0.5, -420.0])
def test_equal_differences_give_exactly_that_value_where_scipy_bca_gives_nan(value: float) -> None:
    data = [value] * 30
    with pytest.warns(stats.DegenerateDataWarning), np.errstate(invalid="ignore"):
        bca = stats.bootstrap((np.array(data),), np.mean, n_resamples=2000, rng=np.random.default_rng(0))
    assert np.isnan(bca.confidence_interval.low)
    assert bootstrap_mean_difference_ci(data) == (value, value)


@pytest.mark.parametrize("value", [0.1, 1 / 3])
def test_equal_differences_whose_float_mean_is_inexact_still_give_exactly_that_value(value: float) -> None:
    # np.mean([0.1] * 30) is 0.10000000000000003: the interval must not miss the data by an ulp.
    assert bootstrap_mean_difference_ci([value] * 30) == (value, value)


def test_a_single_difference_is_its_own_interval() -> None:
    assert bootstrap_mean_difference_ci([0.25]) == (0.25, 0.25)


def test_no_differences_raise_insufficient_data() -> None:
    with pytest.raises(InsufficientData):
        bootstrap_mean_difference_ci([])


@pytest.mark.parametrize("options", [{"resamples": 1999}, {"confidence": 1.0}, {"confidence": 0.0}])
def test_too_few_resamples_or_an_impossible_confidence_are_refused(options: dict) -> None:
    with pytest.raises(InvalidParameter):
        bootstrap_mean_difference_ci(DIFFERENCES, **options)


def test_a_missing_difference_is_refused_rather_than_propagating_nan() -> None:
    with pytest.raises(InvalidParameter, match="index 2"):
        bootstrap_mean_difference_ci([0.1, 0.2, float("nan")])


ZERO_SHOT_LATENCY = np.array([820.0, 1010, 930, 1500, 760, 880, 990, 1210, 1050, 940, 870, 2600, 1000, 980])
FEW_SHOT_LATENCY = np.array([1300.0, 1250, 1400, 1190, 1710, 1320, 1280, 3100, 1360, 1270])


@pytest.mark.parametrize(
    ("statistic", "function"),
    [("mean", np.mean), ("p95", lambda x: np.percentile(x, 95))],
)
def test_unpaired_interval_agrees_with_a_hand_rolled_two_sample_loop(statistic: str, function) -> None:
    # Each group resampled on its own; a loop with its own draws agrees within the Monte Carlo error.
    rng = np.random.default_rng(1)
    a, b = ZERO_SHOT_LATENCY, FEW_SHOT_LATENCY
    draws = [function(b[rng.integers(0, b.size, b.size)]) - function(a[rng.integers(0, a.size, a.size)])
             for _ in range(20_000)]
    expected = np.quantile(draws, [0.025, 0.975])
    low, high = bootstrap_difference_ci(a, b, statistic, seed=9)
    width = expected[1] - expected[0]
    assert (low, high) == pytest.approx(tuple(expected), abs=0.1 * width)
    assert low < function(b) - function(a) < high
    assert bootstrap_difference_ci(a, b, statistic, seed=9) == (low, high)  # reproducible with the seed


def test_unpaired_interval_of_two_constant_groups_is_their_difference() -> None:
    assert bootstrap_difference_ci([2.0] * 5, [3.5] * 8, "p95") == (1.5, 1.5)


def test_unpaired_interval_refuses_an_unknown_statistic_and_an_empty_group() -> None:
    with pytest.raises(InvalidParameter, match="median"):
        bootstrap_difference_ci([1.0, 2.0], [3.0, 4.0], "median")
    with pytest.raises(InsufficientData):
        bootstrap_difference_ci([], [3.0, 4.0])
