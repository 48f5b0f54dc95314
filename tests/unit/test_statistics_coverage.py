"""Simulation: the 95% bootstrap interval covers the true mean difference in at least 90% of datasets."""

from __future__ import annotations

import numpy as np
from scipy import stats

from pipeline.statistics import paired_metric_summary

DATASETS = 200
PAIRS = 30


def _quality(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, float]:
    zero = rng.uniform(0.3, 0.8, PAIRS)
    return zero, zero + rng.normal(0.1, 0.2, PAIRS), 0.1


def _latency(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, float]:
    # Right-skewed like real latencies: few-shot adds a log-normal delay whose true mean is e^(5 + 0.8²/2).
    zero = rng.normal(1500.0, 200.0, PAIRS)
    return zero, zero + rng.lognormal(5.0, 0.8, PAIRS), float(np.exp(5.0 + 0.32))


def _coverage_and_width(simulate) -> tuple[float, float]:
    """Share of datasets whose interval covers the true difference; mean width relative to the t-interval."""
    rng = np.random.default_rng(123)
    covered, width_ratios = 0, []
    for index in range(DATASETS):
        zero, few, true_difference = simulate(rng)
        summary = paired_metric_summary(zero, few, metric="m", higher_is_better=True, seed=index)
        covered += summary.ci_low <= true_difference <= summary.ci_high
        differences = few - zero
        t_width = 2 * stats.t.ppf(0.975, PAIRS - 1) * differences.std(ddof=1) / np.sqrt(PAIRS)
        width_ratios.append((summary.ci_high - summary.ci_low) / t_width)
    return covered / DATASETS, float(np.mean(width_ratios))


def test_95_percent_intervals_cover_the_true_difference_in_at_least_90_percent_of_200_datasets() -> None:
    coverage, width = _coverage_and_width(_quality)
    assert coverage >= 0.90
    # Coverage alone would be met by absurdly wide intervals: they must be about as narrow as the
    # textbook t-interval (the percentile bootstrap is slightly narrower at n = 30).
    assert 0.85 <= width <= 1.05


def test_intervals_stay_close_to_nominal_coverage_for_skewed_latency_differences() -> None:
    # The percentile bootstrap under-covers skewed data a little: about 90% here (89.6% over 2,000
    # datasets, docs/compare-statistics.md), so 200 datasets are held to a looser 85%.
    coverage, width = _coverage_and_width(_latency)
    assert coverage >= 0.85
    assert 0.85 <= width <= 1.05
