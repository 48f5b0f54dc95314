"""Wilson score interval for a proportion, e.g. the share of records with quality ≥ 0.8.

Why Wilson rather than the textbook "p ± z·sqrt(p(1−p)/n)": the textbook (Wald) interval collapses to
zero width when every record passes or none does, and leaves [0, 1] for small n; Wilson's stays inside
[0, 1] and keeps close to its nominal coverage even for a handful of records.
"""

from __future__ import annotations

import math

from scipy import stats

from pipeline.statistics._clean import check_confidence
from pipeline.statistics.errors import InsufficientData, InvalidParameter


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion.

    With p̂ = successes / n and z the two-sided normal quantile, the interval is
    (p̂ + z²/2n ± z·sqrt(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n).

    Args:
        successes: how many records meet the condition, 0 ≤ successes ≤ n.
        n: how many records there are.
        confidence: the coverage level, 0 < confidence < 1.

    Returns:
        `(low, high)` within [0, 1]; low is exactly 0 when successes = 0 and high exactly 1 when
        successes = n.

    Raises:
        InsufficientData: when n is 0.
        InvalidParameter: for negative counts, successes > n, or a bad confidence.
    """
    if int(successes) != successes or int(n) != n or successes < 0 or n < 0:
        raise InvalidParameter(f"successes and n must be non-negative integers, got {successes!r} and {n!r}")
    if successes > n:
        raise InvalidParameter(f"successes ({successes}) cannot exceed n ({n})")
    if n == 0:
        raise InsufficientData("a proportion of zero records has no interval; n must be at least 1")
    z = float(stats.norm.ppf(0.5 + check_confidence(confidence) / 2.0))
    share = successes / n
    denominator = 1.0 + z * z / n
    centre = (share + z * z / (2 * n)) / denominator
    half = z * math.sqrt(share * (1.0 - share) / n + z * z / (4 * n * n)) / denominator
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high
