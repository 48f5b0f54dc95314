"""Bootstrap intervals: identical to scipy's percentile bootstrap, exact on constant data, seeded."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from pipeline.statistics import InsufficientData, InvalidParameter, bootstrap_difference_ci, bootstrap_mean_difference_ci

DIFFERENCES = [0.12, -0.05, 0.3, 0.08, 0.0, 0.21, -0.1, 0.15, 0.04, 0.09, 0.18, -0.02]


def _scipy_percentile(data: tuple[np.ndarray, ...], statistic, seed: int, resamples: int = 2000, **options):
    result = stats.bootstrap(
        data, statistic, n_resamples=resamples, method="percentile", rng=np.random.default_rng(seed),
        vectorized=True, **options,
    )
    return result.confidence_interval.low, result.confidence_interval.high


@pytest.mark.parametrize("seed", [0, 7])
@pytest.mark.parametrize("confidence", [0.95, 0.9])
def test_paired_interval_equals_scipy_percentile_bootstrap(seed: int, confidence: float) -> None:
    expected = _scipy_percentile((np.array(DIFFERENCES),), np.mean, seed, confidence_level=confidence)
    low, high = bootstrap_mean_difference_ci(DIFFERENCES, confidence=confidence, seed=seed)
    assert (low, high) == pytest.approx(expected, rel=1e-12, abs=1e-15)
    assert low < np.mean(DIFFERENCES) < high


def test_paired_interval_equals_a_hand_rolled_resampling_loop() -> None:
    # The textbook loop: draw n indices with replacement, average, repeat, take the 2.5% and 97.5%
    # quantiles. With an even n each row uses whole 64-bit draws, so the loop sees the same indices.
    rng = np.random.default_rng(3)
    data = np.array(DIFFERENCES)
    means = [data[rng.integers(0, data.size, data.size)].mean() for _ in range(2000)]
    expected = np.quantile(means, [0.025, 0.975])
    assert bootstrap_mean_difference_ci(data, seed=3) == pytest.approx(tuple(expected), rel=1e-12)


def test_long_samples_are_resampled_in_batches_exactly_as_scipy_does() -> None:
    data = np.random.default_rng(11).normal(400.0, 80.0, 3000)
    batch = (1 << 22) // data.size  # 1,398 resamples per batch: two batches
    expected = _scipy_percentile((data,), np.mean, 5, batch=batch)
    assert bootstrap_mean_difference_ci(data, seed=5) == pytest.approx(expected, rel=1e-12)


def test_same_seed_gives_identical_interval_and_another_seed_a_different_one() -> None:
    first = bootstrap_mean_difference_ci(DIFFERENCES, seed=42)
    assert bootstrap_mean_difference_ci(DIFFERENCES, seed=42) == first
    assert bootstrap_mean_difference_ci(DIFFERENCES, seed=43) != first


def test_more_resamples_are_used_when_asked() -> None:
    expected = _scipy_percentile((np.array(DIFFERENCES),), np.mean, 0, resamples=5000)
    assert bootstrap_mean_difference_ci(DIFFERENCES, resamples=5000) == pytest.approx(expected, rel=1e-12)


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
    [("mean", np.mean), ("p95", lambda x, axis: np.percentile(x, 95, axis=axis))],
)
def test_unpaired_interval_equals_scipy_two_sample_percentile_bootstrap(statistic: str, function) -> None:
    def difference(a, b, axis):
        return function(b, axis=axis) - function(a, axis=axis)

    expected = _scipy_percentile((ZERO_SHOT_LATENCY, FEW_SHOT_LATENCY), difference, 9)
    low, high = bootstrap_difference_ci(ZERO_SHOT_LATENCY, FEW_SHOT_LATENCY, statistic, seed=9)
    assert (low, high) == pytest.approx(expected, rel=1e-12)
    observed = function(FEW_SHOT_LATENCY, axis=None) - function(ZERO_SHOT_LATENCY, axis=None)
    assert low < observed < high


def test_unpaired_interval_of_two_constant_groups_is_their_difference() -> None:
    assert bootstrap_difference_ci([2.0] * 5, [3.5] * 8, "p95") == (1.5, 1.5)


def test_unpaired_interval_refuses_an_unknown_statistic_and_an_empty_group() -> None:
    with pytest.raises(InvalidParameter, match="median"):
        bootstrap_difference_ci([1.0, 2.0], [3.0, 4.0], "median")
    with pytest.raises(InsufficientData):
        bootstrap_difference_ci([], [3.0, 4.0])
