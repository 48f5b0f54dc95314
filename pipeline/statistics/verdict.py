"""The plain-language verdict: which differences count as detected, and how they are worded.

The rule, applied to every metric the same way: a difference is *detected* when its Holm-adjusted
Wilcoxon p-value is below alpha (0.05) **and** its bootstrap confidence interval excludes zero. Requiring
both keeps the sentence consistent with the numbers printed beside it: a verdict never claims a
difference whose interval contains zero, nor one the test does not support.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.statistics.paired import PairedMetricSummary

MIN_RELIABLE_PAIRS = 10


@dataclass(frozen=True, slots=True)
class MetricWording:
    """How one metric is named in a verdict and which direction is better."""

    name: str
    label: str
    higher_is_better: bool
    improved: str
    worsened: str
    unit: str = ""
    decimals: int = 2


KNOWN_METRICS: tuple[MetricWording, ...] = (
    MetricWording("quality", "quality", True, "better on quality", "worse on quality"),
    MetricWording("confidence", "confidence", True, "more confident", "less confident"),
    MetricWording("latency_ms", "latency", False, "faster", "slower", unit=" ms", decimals=0),
)


def wording_for(metric: str, higher_is_better: bool) -> MetricWording:
    """The wording of a known metric, or a generic one ("better on <metric>") for any other name.

    Args:
        metric: the metric's name.
        higher_is_better: its direction, used for a metric that is not one of the known three.

    Returns:
        The wording.
    """
    for wording in KNOWN_METRICS:
        if wording.name == metric:
            return wording
    return MetricWording(metric, metric, higher_is_better, f"better on {metric}", f"worse on {metric}")


def is_detected(summary: PairedMetricSummary, alpha: float = 0.05) -> bool:
    """Whether the verdict reports a difference for this metric (adjusted p < alpha and 0 outside the CI).

    Args:
        summary: the metric's summary, with `p_value_adjusted` already Holm-adjusted.
        alpha: the significance level.

    Returns:
        True when the difference is detected.
    """
    excludes_zero = summary.ci_low > 0 or summary.ci_high < 0
    return summary.p_value_adjusted < alpha and excludes_zero


def format_p(p: float, alpha: float = 0.05) -> str:
    """`p < 0.001` or `p = 0.012`, with enough digits that rounding never moves p across alpha."""
    if p < 0.001:
        return "p < 0.001"
    for digits in range(3, 7):
        text = f"{p:.{digits}f}"
        if (float(text) < alpha) == (p < alpha):
            return f"p = {text}"
    return f"p = {p!r}"


def _signed(values: Sequence[float], decimals: int) -> list[str]:
    # Widen the precision while a non-zero number would print as zero ("+0.00" hides a real bound).
    for places in range(decimals, decimals + 3):
        texts = [f"{v:+.{places}f}" for v in values]
        if all(float(t) != 0 or v == 0 for t, v in zip(texts, values)):
            break
    return texts


def metric_sentence(summary: PairedMetricSummary, alpha: float = 0.05) -> str | None:
    """The sentence for a detected difference, e.g. "few-shot is slower by +420 ms [+310, +530] (p < 0.001, n = 30)".

    Numbers are few-shot minus zero-shot with the interval in brackets; p is the Holm-adjusted p-value.

    Args:
        summary: the metric's summary.
        alpha: the significance level.

    Returns:
        The sentence, or None when no difference is detected.
    """
    if not is_detected(summary, alpha):
        return None
    wording = wording_for(summary.metric, summary.higher_is_better)
    # The interval excludes zero here; its side (not the point estimate) decides the word, so the
    # word always agrees with the bracketed numbers.
    word = wording.improved if (summary.ci_low > 0) == summary.higher_is_better else wording.worsened
    mean, low, high = _signed([summary.mean_difference, summary.ci_low, summary.ci_high], wording.decimals)
    return (
        f"few-shot is {word} by {mean}{wording.unit} [{low}, {high}] "
        f"({format_p(summary.p_value_adjusted, alpha)}, n = {summary.n_pairs})"
    )


def _join(labels: list[str]) -> str:
    return labels[0] if len(labels) == 1 else f"{', '.join(labels[:-1])} or {labels[-1]}"


def verdict_text(summaries: Sequence[PairedMetricSummary], alpha: float = 0.05) -> str:
    """The whole verdict: detected differences first, then "no detectable difference in …" (with fewer than
    10 pairs: "too few pairs to decide (n = 4) on …: add at least 6 more evaluation ideas …").

    Args:
        summaries: Holm-adjusted summaries, in reporting order.
        alpha: the significance level.

    Returns:
        Sentences joined by "; ", e.g. "few-shot is better on quality by +0.12 [+0.07, +0.17]
        (p = 0.002, n = 30); no detectable difference in confidence or latency (n = 30)".
    """
    sentences = [s for s in (metric_sentence(summary, alpha) for summary in summaries) if s]
    undetected: dict[int, list[str]] = {}
    for summary in summaries:
        if not is_detected(summary, alpha):
            label = wording_for(summary.metric, summary.higher_is_better).label
            undetected.setdefault(summary.n_pairs, []).append(label)
    sentences += [_undecided(labels, n) for n, labels in undetected.items()]
    return "; ".join(sentences)


def _undecided(labels: list[str], n_pairs: int) -> str:
    # Below 10 pairs "no detectable difference" reads as "no difference" beside a table that may show a
    # large, consistent one: say the sample cannot decide, and what would let it.
    if n_pairs >= MIN_RELIABLE_PAIRS:
        return f"no detectable difference in {_join(labels)} (n = {n_pairs})"
    more = MIN_RELIABLE_PAIRS - n_pairs
    return (
        f"too few pairs to decide (n = {n_pairs}) on {_join(labels)}: add at least {more} more evaluation "
        f"idea{'s' if more != 1 else ''} (more repeats of the same ideas add no pairs)"
    )


def small_sample_warning(n_pairs: int) -> str | None:
    """A plain-words warning when there are fewer than 10 pairs, else None.

    Args:
        n_pairs: the number of complete pairs.

    Returns:
        The warning text or None.
    """
    if n_pairs >= MIN_RELIABLE_PAIRS:
        return None
    text = (
        f"Only {n_pairs} pair{'s' if n_pairs != 1 else ''}: with fewer than {MIN_RELIABLE_PAIRS} pairs the "
        "intervals are wide and real differences are easily missed; add evaluation ideas before trusting "
        "this comparison (repeats of the same ideas are averaged per idea and add no pairs)."
    )
    # The smallest two-sided exact Wilcoxon p-value is 2 / 2**n: 0.0625 for five pairs.
    if 2.0 / 2**n_pairs >= 0.05:
        text += f" With {n_pairs} pair{'s' if n_pairs != 1 else ''} no difference can reach p < 0.05."
    return text
