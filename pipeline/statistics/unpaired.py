"""Unpaired comparison of history records: zero-shot and few-shot runs of *different* ideas.

History in a date range is not paired (each idea went through one backend), so differences are between
independent groups: Mann–Whitney U instead of Wilcoxon, and a bootstrap that resamples each group on
its own. Expect wider intervals than an experiment gives for the same number of records.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np
from scipy import stats

from pipeline.statistics._clean import as_float_array, drop_missing, stable_mean
from pipeline.statistics._json import plain
from pipeline.statistics.bootstrap import bootstrap_difference_ci
from pipeline.statistics.errors import InsufficientData, InvalidParameter
from pipeline.statistics.wilson import wilson_interval

Values = Sequence[float | None] | np.ndarray


def mann_whitney(a: Values, b: Values) -> tuple[float, float]:
    """Two-sided Mann–Whitney U test (`scipy.stats.mannwhitneyu`, its automatic exact/asymptotic choice).

    Args:
        a: the first group (zero-shot), finite values.
        b: the second group (few-shot), finite values.

    Returns:
        `(U, p)` where U counts the (a, b) pairs with a > b, ties counting one half; p is 1.0 when every
        value in both groups is equal.

    Raises:
        InsufficientData: when either group is empty.
        InvalidParameter: for a missing or infinite value.
    """
    first, second = as_float_array(a), as_float_array(b)
    for name, group in (("a", first), ("b", second)):
        if group.size == 0:
            raise InsufficientData(f"group {name} is empty; Mann-Whitney needs at least one value in each group")
        if not np.all(np.isfinite(group)):
            raise InvalidParameter(f"group {name} holds a missing or infinite value; drop it first")
    result = stats.mannwhitneyu(first, second, alternative="two-sided")
    p = float(result.pvalue)
    return float(result.statistic), (1.0 if np.isnan(p) else min(1.0, p))


@dataclass(frozen=True, slots=True)
class UnpairedMetricSummary:
    """One metric compared across two independent groups; differences are few-shot minus zero-shot.

    The `share_*` fields are None unless a threshold was given: the share of records meeting it
    (≥ threshold when higher is better, ≤ threshold when lower is better) with its Wilson interval.
    """

    metric: str
    higher_is_better: bool
    n_zero_shot: int
    n_few_shot: int
    n_dropped: int
    mean_zero_shot: float
    mean_few_shot: float
    median_zero_shot: float
    median_few_shot: float
    p95_zero_shot: float
    p95_few_shot: float
    mean_difference: float
    ci_low: float
    ci_high: float
    p95_difference: float
    p95_ci_low: float
    p95_ci_high: float
    u_statistic: float
    p_value: float
    threshold: float | None = None
    share_zero_shot: float | None = None
    share_zero_shot_low: float | None = None
    share_zero_shot_high: float | None = None
    share_few_shot: float | None = None
    share_few_shot_low: float | None = None
    share_few_shot_high: float | None = None

    def to_dict(self) -> dict[str, object]:
        """Every field as a plain JSON value (NaN becomes None)."""
        return {f.name: plain(getattr(self, f.name)) for f in fields(self)}


def _share(values: np.ndarray, threshold: float, higher_is_better: bool, confidence: float) -> tuple[float, ...]:
    meets = values >= threshold if higher_is_better else values <= threshold
    successes = int(np.sum(meets))
    low, high = wilson_interval(successes, int(values.size), confidence)
    return successes / values.size, low, high


def compare_unpaired(
    zero_shot_values: Values,
    few_shot_values: Values,
    *,
    metric: str,
    higher_is_better: bool,
    threshold: float | None = None,
    seed: int = 0,
    resamples: int = 2000,
    confidence: float = 0.95,
) -> UnpairedMetricSummary:
    """Compare one metric between the zero-shot and few-shot records of a period.

    Args:
        zero_shot_values: the metric of each zero-shot record; None/NaN values are dropped and counted.
        few_shot_values: the metric of each few-shot record.
        metric: the metric's name, e.g. "quality" or "latency_ms".
        higher_is_better: True for quality and confidence, False for latency.
        threshold: optional; adds each group's share of records meeting it, e.g. quality ≥ 0.8.
        seed: seeds both bootstraps.
        resamples: bootstrap resamples, at least 2,000.
        confidence: level of every interval.

    Returns:
        Means, medians and 95th percentiles of each group; bootstrap intervals of the differences of
        means and of 95th percentiles; the Mann–Whitney U and p; the shares when a threshold is given.

    Raises:
        InsufficientData: when either group has no value left after dropping missing ones.
        InvalidParameter: for a value that is not a number, a non-finite threshold, too few resamples
            or a bad confidence.
    """
    zero, dropped_zero = drop_missing(zero_shot_values)
    few, dropped_few = drop_missing(few_shot_values)
    for name, group in (("zero-shot", zero), ("few-shot", few)):
        if group.size == 0:
            raise InsufficientData(f"{metric}: the {name} group has no values in this period")
    if threshold is not None and not np.isfinite(threshold):
        raise InvalidParameter(f"threshold must be a finite number, got {threshold!r}")
    options = {"confidence": confidence, "resamples": resamples, "seed": seed}
    low, high = bootstrap_difference_ci(zero, few, "mean", **options)
    p95_low, p95_high = bootstrap_difference_ci(zero, few, "p95", **options)
    u_statistic, p_value = mann_whitney(zero, few)
    p95_zero, p95_few = float(np.percentile(zero, 95)), float(np.percentile(few, 95))
    shares: dict[str, float | None] = {}
    if threshold is not None:
        for prefix, group in (("share_zero_shot", zero), ("share_few_shot", few)):
            share, share_low, share_high = _share(group, threshold, higher_is_better, confidence)
            shares |= {prefix: share, f"{prefix}_low": share_low, f"{prefix}_high": share_high}
    return UnpairedMetricSummary(
        metric=metric,
        higher_is_better=bool(higher_is_better),
        n_zero_shot=int(zero.size),
        n_few_shot=int(few.size),
        n_dropped=dropped_zero + dropped_few,
        mean_zero_shot=stable_mean(zero),
        mean_few_shot=stable_mean(few),
        median_zero_shot=float(np.median(zero)),
        median_few_shot=float(np.median(few)),
        p95_zero_shot=p95_zero,
        p95_few_shot=p95_few,
        mean_difference=stable_mean(few) - stable_mean(zero),
        ci_low=low,
        ci_high=high,
        p95_difference=p95_few - p95_zero,
        p95_ci_low=p95_low,
        p95_ci_high=p95_high,
        u_statistic=u_statistic,
        p_value=p_value,
        threshold=None if threshold is None else float(threshold),
        **shares,
    )
