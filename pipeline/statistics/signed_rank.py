"""The Wilcoxon signed-rank test and its effect size, the matched-pairs rank-biserial correlation.

Zero differences (ties between the backends) are dropped, scipy's `zero_method="wilcox"`: the effect
size and the win/loss counts also leave ties out, so the three numbers describe the same pairs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import stats

# scipy.stats.wilcoxon switches to an exact sign-flip permutation test when there are ties or zeros
# and at most 13 differences (2**13 sign patterns); it enumerates them one Python call at a time,
# about a second each. We enumerate the same patterns with one matrix product.
_PERMUTATION_MAX_N = 13


def rank_biserial(differences: Sequence[float] | np.ndarray) -> float:
    """Matched-pairs rank-biserial correlation of paired differences.

    Zero differences are left out; the absolute values of the others are ranked (ties share the average
    rank), and the result is (sum of positive ranks − sum of negative ranks) / (sum of all ranks).

    Args:
        differences: few-shot minus zero-shot, one per pair.

    Returns:
        A value in [-1, 1]: +1 when few-shot is larger on every non-tied pair, −1 when it is smaller on
        every one; 0.0 when there are no non-zero differences.
    """
    d = np.asarray(differences, dtype=float)
    d = d[d != 0]
    if d.size == 0:
        return 0.0
    ranks = stats.rankdata(np.abs(d))
    positive, negative = ranks[d > 0].sum(), ranks[d < 0].sum()
    return float((positive - negative) / (positive + negative))


def _sign_flip_p_value(nonzero: np.ndarray) -> float:
    """Two-sided exact permutation p of the positive rank sum, as `scipy.stats.permutation_test` computes it."""
    ranks = stats.rankdata(np.abs(nonzero))
    observed = ranks[nonzero > 0].sum()
    patterns = (np.arange(2 ** nonzero.size)[:, None] >> np.arange(nonzero.size)) & 1
    null = patterns @ ranks
    # The same relative tolerance scipy uses to treat numerically equal rank sums as equal.
    gamma = abs(np.finfo(float).eps * 100 * observed)
    less = np.mean(null <= observed + gamma)
    greater = np.mean(null >= observed - gamma)
    return float(min(1.0, 2.0 * min(less, greater)))


def wilcoxon_p_value(differences: Sequence[float] | np.ndarray) -> float:
    """Two-sided Wilcoxon signed-rank p-value, equal to `scipy.stats.wilcoxon(d, zero_method="wilcox")`.

    scipy chooses the method: the exact distribution for up to 50 differences without ties or zeros,
    an exact sign-flip permutation test for up to 13 with ties or zeros, and otherwise the normal
    approximation with tie and continuity corrections.

    Args:
        differences: few-shot minus zero-shot, one per pair.

    Returns:
        The p-value; exactly 1.0 when every difference is zero (scipy would divide by zero there:
        with nothing but ties there is no evidence of any difference).
    """
    d = np.asarray(differences, dtype=float)
    nonzero = d[d != 0]
    if nonzero.size == 0:
        return 1.0
    has_ties = np.unique(np.abs(nonzero)).size < nonzero.size
    if (has_ties or nonzero.size < d.size) and d.size <= _PERMUTATION_MAX_N:
        return _sign_flip_p_value(nonzero)
    result = stats.wilcoxon(d, zero_method="wilcox", alternative="two-sided")
    return float(min(1.0, result.pvalue))
