"""Statistics of the Compare feature: paired (experiments) and unpaired (history) zero-shot vs few-shot.

Numpy and scipy only; no I/O. See docs/compare-statistics.md for how to read the numbers.
"""

from pipeline.statistics.bootstrap import bootstrap_difference_ci, bootstrap_mean_difference_ci
from pipeline.statistics.comparison import PairedComparison, compare_paired
from pipeline.statistics.errors import (
    InsufficientData,
    InvalidParameter,
    InvalidSummary,
    MismatchedPairs,
    StatisticsError,
    UnknownMetric,
)
from pipeline.statistics.holm import holm_adjust
from pipeline.statistics.paired import PairedMetricSummary, paired_metric_summary
from pipeline.statistics.signed_rank import rank_biserial, wilcoxon_p_value
from pipeline.statistics.unpaired import UnpairedMetricSummary, compare_unpaired, mann_whitney
from pipeline.statistics.wilson import wilson_interval

__all__ = [
    "InsufficientData",
    "InvalidParameter",
    "InvalidSummary",
    "MismatchedPairs",
    "PairedComparison",
    "PairedMetricSummary",
    "StatisticsError",
    "UnknownMetric",
    "UnpairedMetricSummary",
    "bootstrap_difference_ci",
    "bootstrap_mean_difference_ci",
    "compare_paired",
    "compare_unpaired",
    "holm_adjust",
    "mann_whitney",
    "paired_metric_summary",
    "rank_biserial",
    "wilcoxon_p_value",
    "wilson_interval",
]
