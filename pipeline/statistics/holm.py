"""Holm–Bonferroni adjustment of the p-values reported together.

Why: a comparison reports three metrics at once (quality, confidence, latency). Testing each at 5%
gives roughly a 14% chance that at least one "significant" result is noise. Holm's step-down method
keeps that family-wise error at 5%, is never less powerful than plain Bonferroni, and needs no
assumption about how the metrics depend on each other (quality and confidence are correlated).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from pipeline.statistics.errors import InvalidParameter


def holm_adjust(p_values: Sequence[float]) -> list[float]:
    """Holm–Bonferroni step-down adjusted p-values.

    With m p-values sorted ascending, p(1) ≤ … ≤ p(m), the adjusted value of p(i) is
    max over j ≤ i of min(1, (m − j + 1) · p(j)); the running maximum keeps the order monotone.
    Comparing an adjusted p-value with 0.05 is the same decision as Holm's procedure at level 0.05.

    Args:
        p_values: raw p-values in [0, 1], in any order.

    Returns:
        Adjusted p-values in the input order, each ≥ its raw value and at most 1. Empty in, empty out.

    Raises:
        InvalidParameter: when a p-value is NaN or outside [0, 1].
    """
    values = [float(p) for p in p_values]
    for index, p in enumerate(values):
        if math.isnan(p) or not 0.0 <= p <= 1.0:
            raise InvalidParameter(f"p-value at index {index} must be within [0, 1], got {p!r}")
    m = len(values)
    order = sorted(range(m), key=lambda i: values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * values[index]))
        adjusted[index] = running
    return adjusted
