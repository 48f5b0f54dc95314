"""Seeded percentile bootstrap confidence intervals, vectorised with numpy.

Why the percentile method rather than scipy's default BCa: BCa divides by the spread of the jackknife
estimates, so when every difference is equal (a common case: both backends score 1.0 on every idea) it
returns NaN. The percentile interval of a constant sample is that constant, which is the honest answer.
For n = 30 and normal differences it covers the true mean in about 94% of datasets (see the simulation
test and docs/compare-statistics.md).

The resampling draws exactly what `scipy.stats.bootstrap(..., method="percentile")` draws from a
`numpy.random.default_rng(seed)` (`rng.integers(0, n, (resamples, n))`, one sample after the other),
so the tests can check our intervals against scipy's to floating-point precision.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType

import numpy as np

from pipeline.statistics._clean import as_float_array, check_confidence
from pipeline.statistics.errors import InsufficientData, InvalidParameter

MIN_RESAMPLES = 2000
# Resampled values materialised at once; bounds memory (32 MiB of float64) for long histories.
_MAX_BATCH_ELEMENTS = 1 << 22

_STATISTICS: Mapping[str, Callable[..., np.ndarray]] = MappingProxyType({
    "mean": lambda x, axis: np.mean(x, axis=axis),
    "p95": lambda x, axis: np.percentile(x, 95, axis=axis),
})


def _sample(values: Sequence[float] | np.ndarray, name: str) -> np.ndarray:
    array = as_float_array(values)
    if array.size == 0:
        raise InsufficientData(f"{name} is empty; at least one value is needed for a bootstrap interval")
    bad = np.flatnonzero(~np.isfinite(array))
    if bad.size:
        raise InvalidParameter(
            f"{name} holds a missing or infinite value at index {bad[0]} ({array[bad[0]]!r}); drop it first"
        )
    return array


def _check_resamples(resamples: int) -> int:
    if int(resamples) != resamples or resamples < MIN_RESAMPLES:
        raise InvalidParameter(f"resamples must be an integer of at least {MIN_RESAMPLES}, got {resamples!r}")
    return int(resamples)


def _batches(resamples: int, n: int) -> list[int]:
    size = max(1, _MAX_BATCH_ELEMENTS // n)
    return [min(size, resamples - start) for start in range(0, resamples, size)]


def _resampled(
    rng: np.random.Generator, sample: np.ndarray, k: int, statistic: Callable[..., np.ndarray]
) -> np.ndarray:
    """The statistic of `k` resamples of `sample`, each a row of indices drawn with replacement."""
    return statistic(sample[rng.integers(0, sample.size, (k, sample.size))], axis=-1)


def _percentile_interval(distribution: np.ndarray, confidence: float) -> tuple[float, float]:
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(distribution, [alpha, 1.0 - alpha])
    return float(low), float(high)


def bootstrap_mean_difference_ci(
    differences: Sequence[float] | np.ndarray, *, confidence: float = 0.95, resamples: int = 2000, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of the mean of paired differences.

    Args:
        differences: one finite difference per pair (few-shot minus zero-shot).
        confidence: the coverage level, 0 < confidence < 1.
        resamples: bootstrap resamples, at least 2,000.
        seed: seeds `numpy.random.default_rng`; the same seed and data give the same interval.

    Returns:
        `(low, high)`. When every difference is equal (including n = 1) both ends are exactly that value:
        resampling a constant cannot produce anything else, and one pair says nothing about spread.

    Raises:
        InsufficientData: when `differences` is empty.
        InvalidParameter: for a missing or infinite difference, a bad confidence or too few resamples.
    """
    sample = _sample(differences, "differences")
    confidence = check_confidence(confidence)
    resamples = _check_resamples(resamples)
    if np.all(sample == sample[0]):
        return float(sample[0]), float(sample[0])
    rng = np.random.default_rng(seed)
    mean = _STATISTICS["mean"]
    distribution = np.concatenate([_resampled(rng, sample, k, mean) for k in _batches(resamples, sample.size)])
    return _percentile_interval(distribution, confidence)


def bootstrap_difference_ci(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    statistic: str = "mean",
    *,
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of `statistic(b) − statistic(a)` for two independent samples.

    Each group is resampled on its own (with replacement, keeping its size), as for unpaired history.
    Called as `(zero_shot, few_shot)` the difference is few-shot minus zero-shot, as everywhere else.

    Args:
        a: the first group (zero-shot), finite values.
        b: the second group (few-shot), finite values.
        statistic: "mean" or "p95" (95th percentile, linear interpolation as `numpy.percentile`).
        confidence: the coverage level, 0 < confidence < 1.
        resamples: bootstrap resamples, at least 2,000.
        seed: seeds `numpy.random.default_rng`.

    Returns:
        `(low, high)`; exactly the observed difference when each group is constant.

    Raises:
        InsufficientData: when either group is empty.
        InvalidParameter: for a missing or infinite value, an unknown statistic, a bad confidence or
            too few resamples.
    """
    if statistic not in _STATISTICS:
        raise InvalidParameter(f"statistic must be one of {sorted(_STATISTICS)}, got {statistic!r}")
    first, second = _sample(a, "a"), _sample(b, "b")
    confidence = check_confidence(confidence)
    resamples = _check_resamples(resamples)
    if np.all(first == first[0]) and np.all(second == second[0]):
        return float(second[0] - first[0]), float(second[0] - first[0])
    rng = np.random.default_rng(seed)
    function = _STATISTICS[statistic]
    batches = _batches(resamples, max(first.size, second.size))
    # One batch of `a`, then the same batch of `b`, as scipy.stats.bootstrap draws them.
    differences = []
    for k in batches:
        from_a = _resampled(rng, first, k, function)
        differences.append(_resampled(rng, second, k, function) - from_a)
    return _percentile_interval(np.concatenate(differences), confidence)
