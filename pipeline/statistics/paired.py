"""The paired summary of one metric: the same evaluation items run through both backends.

Why paired: every idea is run through zero-shot and few-shot, so the idea-to-idea variation (some ideas
are simply harder) cancels in the per-item difference. Testing the differences is far more sensitive
than comparing two averages, and it is the question the user asks: "on the same idea, which is better?"
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np

from pipeline.statistics._clean import aligned_pairs, stable_mean
from pipeline.statistics._json import plain
from pipeline.statistics.bootstrap import bootstrap_mean_difference_ci
from pipeline.statistics.errors import InsufficientData, InvalidSummary
from pipeline.statistics.signed_rank import rank_biserial, wilcoxon_p_value

# Differences are rounded before ranking and counting ties: 0.8 - 0.7 and 0.7 - 0.6 differ in the last
# bit of a float, and must tie; 0.1 + 0.2 - 0.3 is not a win. Nine decimals is far below any real
# difference in a score in [0, 1] or a latency in milliseconds.
_DECIMALS = 9


@dataclass(frozen=True, slots=True)
class PairedMetricSummary:
    """Paired statistics of one metric; differences are few-shot minus zero-shot."""

    metric: str
    n_pairs: int
    mean_zero_shot: float
    mean_few_shot: float
    median_zero_shot: float
    median_few_shot: float
    mean_difference: float
    ci_low: float
    ci_high: float
    p_value: float
    p_value_adjusted: float
    effect_size: float
    wins: int
    ties: int
    losses: int
    higher_is_better: bool
    n_dropped: int = 0

    def __post_init__(self) -> None:
        if self.n_pairs < 1:
            raise InvalidSummary(f"n_pairs must be at least 1, got {self.n_pairs}")
        if self.wins + self.ties + self.losses != self.n_pairs:
            raise InvalidSummary(
                f"wins + ties + losses ({self.wins} + {self.ties} + {self.losses}) must equal n_pairs ({self.n_pairs})"
            )
        if not self.ci_low <= self.ci_high:
            raise InvalidSummary(f"ci_low ({self.ci_low}) must not exceed ci_high ({self.ci_high})")
        for name in ("p_value", "p_value_adjusted"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise InvalidSummary(f"{name} must be within [0, 1], got {getattr(self, name)}")

    def to_dict(self) -> dict[str, object]:
        """Every field as a plain JSON value (numbers, booleans, the metric name; NaN becomes None)."""
        return {f.name: plain(getattr(self, f.name)) for f in fields(self)}


def paired_metric_summary(
    zero_shot: Sequence[float | None] | np.ndarray,
    few_shot: Sequence[float | None] | np.ndarray,
    *,
    metric: str,
    higher_is_better: bool,
    seed: int = 0,
    resamples: int = 2000,
    confidence: float = 0.95,
) -> PairedMetricSummary:
    """Summarise one metric over items run through both backends.

    Args:
        zero_shot: one value per item; None or NaN where the run failed or the value is missing.
        few_shot: one value per item, aligned by position with `zero_shot`.
        metric: the metric's name, e.g. "quality" or "latency_ms".
        higher_is_better: True for quality and confidence, False for latency; decides wins and losses.
        seed: seeds the bootstrap.
        resamples: bootstrap resamples, at least 2,000.
        confidence: level of the interval of the mean difference.

    Returns:
        The summary. `p_value_adjusted` equals `p_value` until `holm_adjust` is applied across metrics
        (see `compare_paired`). `effect_size` is positive when few-shot values are larger (for latency:
        slower), whatever the direction of "better".

    Raises:
        MismatchedPairs: when the sequences differ in length.
        InsufficientData: when no pair has a value on both sides.
        InvalidParameter: for a value that is not a number, too few resamples or a bad confidence.
    """
    zero, few, n_dropped = aligned_pairs(zero_shot, few_shot)
    if zero.size == 0:
        raise InsufficientData(
            f"{metric}: no pair has a value for both backends ({n_dropped} pair(s) dropped for a missing value)"
        )
    differences = np.round(few - zero, _DECIMALS)
    low, high = bootstrap_mean_difference_ci(differences, confidence=confidence, resamples=resamples, seed=seed)
    p_value = wilcoxon_p_value(differences)
    larger, smaller = int(np.sum(differences > 0)), int(np.sum(differences < 0))
    return PairedMetricSummary(
        metric=metric,
        n_pairs=int(zero.size),
        mean_zero_shot=float(np.mean(zero)),
        mean_few_shot=float(np.mean(few)),
        median_zero_shot=float(np.median(zero)),
        median_few_shot=float(np.median(few)),
        mean_difference=stable_mean(differences),
        ci_low=low,
        ci_high=high,
        p_value=p_value,
        p_value_adjusted=p_value,
        effect_size=rank_biserial(differences),
        wins=larger if higher_is_better else smaller,
        ties=int(zero.size) - larger - smaller,
        losses=smaller if higher_is_better else larger,
        higher_is_better=bool(higher_is_better),
        n_dropped=n_dropped,
    )
