"""The paired comparison of an experiment: every metric summarised, Holm-adjusted, and put into words."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from pipeline.statistics._clean import aligned_pairs
from pipeline.statistics._json import plain
from pipeline.statistics.errors import InsufficientData, UnknownMetric
from pipeline.statistics.holm import holm_adjust
from pipeline.statistics.paired import PairedMetricSummary, paired_metric_summary
from pipeline.statistics.verdict import KNOWN_METRICS, is_detected, small_sample_warning, verdict_text

Values = Sequence[float | None] | np.ndarray
_EMPTY_FIELDS = (
    "mean_zero_shot", "mean_few_shot", "median_zero_shot", "median_few_shot", "mean_difference",
    "ci_low", "ci_high", "p_value", "p_value_adjusted", "effect_size",
)


@dataclass(frozen=True, slots=True)
class PairedComparison:
    """Zero-shot versus few-shot on the same items: per-metric summaries, the verdict and any warning."""

    n_pairs: int
    verdict: str
    warning: str | None
    metrics: tuple[PairedMetricSummary, ...]
    missing: tuple[str, ...] = ()
    alpha: float = 0.05
    confidence: float = 0.95

    def metric(self, name: str) -> PairedMetricSummary:
        """The summary of metric `name`.

        Raises:
            UnknownMetric: when the comparison has no summary of that name.
        """
        for summary in self.metrics:
            if summary.metric == name:
                return summary
        raise UnknownMetric(f"no summary for metric {name!r}; have {[s.metric for s in self.metrics]}")

    def to_dict(self) -> dict[str, object]:
        """The `--json` shape: `n_pairs`, `verdict`, `warning` and `metrics.<name>` of plain JSON values.

        A metric listed in `missing` (no pair had both values) appears with `n_pairs` 0, None statistics
        and zero counts, so a reader can rely on the key being present.
        """
        metrics: dict[str, object] = {}
        for summary in self.metrics:
            metrics[summary.metric] = summary.to_dict() | {"detected": is_detected(summary, self.alpha)}
        for name in self.missing:
            metrics[name] = {"metric": name, "n_pairs": 0, "wins": 0, "ties": 0, "losses": 0, "detected": False}
            metrics[name] |= {field: None for field in _EMPTY_FIELDS}
        return {
            "n_pairs": self.n_pairs,
            "verdict": self.verdict,
            "warning": self.warning,
            "alpha": plain(self.alpha),
            "confidence": plain(self.confidence),
            "metrics": metrics,
        }


def _direction(name: str, overrides: Mapping[str, bool]) -> bool:
    if name in overrides:
        return bool(overrides[name])
    for wording in KNOWN_METRICS:
        if wording.name == name:
            return wording.higher_is_better
    raise UnknownMetric(f"metric {name!r} is not one of {[w.name for w in KNOWN_METRICS]}; pass higher_is_better")


def _ordered(names: list[str]) -> list[str]:
    known = [w.name for w in KNOWN_METRICS if w.name in names]
    return known + [name for name in names if name not in known]


def _warning(n_pairs: int, summaries: Sequence[PairedMetricSummary], missing: Sequence[str]) -> str | None:
    parts = [small_sample_warning(n_pairs)]
    parts += [
        f"{s.n_dropped} pair{'s' if s.n_dropped != 1 else ''} left out of {s.metric} for a missing value."
        for s in summaries
        if s.n_dropped
    ]
    parts += [f"No pair has both values for {name}; it is not compared." for name in missing]
    text = " ".join(p for p in parts if p)
    return text or None


def compare_paired(
    pairs: Mapping[str, tuple[Values, Values]],
    *,
    seed: int = 0,
    resamples: int = 2000,
    confidence: float = 0.95,
    alpha: float = 0.05,
    higher_is_better: Mapping[str, bool] | None = None,
) -> PairedComparison:
    """Compare the backends on every metric given, with Holm's correction across them.

    Args:
        pairs: metric name → `(zero_shot_values, few_shot_values)`, aligned by item; typically
            "quality", "confidence" and "latency_ms". None/NaN marks a missing value.
        seed: seeds every bootstrap (each metric uses the same seed).
        resamples: bootstrap resamples, at least 2,000.
        confidence: level of the intervals.
        alpha: significance level of the verdict.
        higher_is_better: directions for metrics other than the three known ones (or to override them).

    Returns:
        The comparison. `n_pairs` is the number of complete quality pairs (quality is the headline),
        or the largest count of any metric when quality is absent. `warning` is set when there are fewer
        than 10 pairs, when pairs were left out for a missing value, or when a metric has no pairs.

    Raises:
        InsufficientData: when no metric has a single complete pair.
        MismatchedPairs: when a metric's two sequences differ in length.
        UnknownMetric: for a metric whose direction is not known and not given.
        InvalidParameter: for a value that is not a number, too few resamples or a bad confidence.
    """
    overrides = dict(higher_is_better or {})
    summaries: list[PairedMetricSummary] = []
    missing: list[str] = []
    for name in _ordered(list(pairs)):
        zero_shot, few_shot = pairs[name]
        direction = _direction(name, overrides)
        if aligned_pairs(zero_shot, few_shot)[0].size == 0:
            missing.append(name)
            continue
        summaries.append(
            paired_metric_summary(
                zero_shot, few_shot, metric=name, higher_is_better=direction,
                seed=seed, resamples=resamples, confidence=confidence,
            )
        )
    if not summaries:
        raise InsufficientData(f"no complete pair for any metric ({sorted(pairs) or 'no metrics given'})")
    adjusted = holm_adjust([s.p_value for s in summaries])
    summaries = [replace(s, p_value_adjusted=p) for s, p in zip(summaries, adjusted)]
    counts = {s.metric: s.n_pairs for s in summaries}
    n_pairs = counts.get("quality", max(counts.values()))
    return PairedComparison(
        n_pairs=n_pairs,
        verdict=verdict_text(summaries, alpha),
        warning=_warning(min(counts.values()), summaries, missing),
        metrics=tuple(summaries),
        missing=tuple(missing),
        alpha=alpha,
        confidence=confidence,
    )
