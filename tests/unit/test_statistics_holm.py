"""Holm–Bonferroni adjustment against hand computations and the step-down procedure itself."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.statistics import InvalidParameter, holm_adjust


def test_three_metrics_adjusted_by_hand() -> None:
    # Sorted: 0.03 × 3 = 0.09; 0.04 × 2 = 0.08, raised to 0.09 to stay monotone; 0.5 × 1 = 0.5.
    assert holm_adjust([0.04, 0.03, 0.5]) == pytest.approx([0.09, 0.09, 0.5])


def test_four_p_values_adjusted_by_hand() -> None:
    # 0.01 × 4 = 0.04; 0.02 × 3 = 0.06; 0.03 × 2 = 0.06; 0.04 × 1 = 0.04 → 0.06 (running maximum).
    assert holm_adjust([0.03, 0.01, 0.04, 0.02]) == pytest.approx([0.06, 0.04, 0.06, 0.06])


def test_adjusted_values_are_capped_at_one() -> None:
    assert holm_adjust([0.6, 0.7, 0.02]) == pytest.approx([1.0, 1.0, 0.06])


def test_a_single_p_value_is_unchanged_and_no_p_values_give_none() -> None:
    assert holm_adjust([0.037]) == [0.037]
    assert holm_adjust([]) == []


@pytest.mark.parametrize("bad", [float("nan"), -0.1, 1.5])
def test_a_p_value_outside_zero_one_is_refused(bad: float) -> None:
    with pytest.raises(InvalidParameter, match="index 1"):
        holm_adjust([0.01, bad])


def _holm_rejections(p_values: list[float], alpha: float) -> list[bool]:
    """Holm's procedure as published: step down the sorted p-values while p(i) ≤ alpha / (m − i + 1)."""
    m = len(p_values)
    rejected = [False] * m
    for rank, index in enumerate(sorted(range(m), key=lambda i: p_values[i])):
        if p_values[index] > alpha / (m - rank):
            break
        rejected[index] = True
    return rejected


@given(st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=1, max_size=8), st.sampled_from([0.01, 0.05, 0.1]))
def test_adjusted_p_below_alpha_is_exactly_holms_rejection(p_values: list[float], alpha: float) -> None:
    adjusted = holm_adjust(p_values)
    assert all(raw <= adj <= 1.0 for raw, adj in zip(p_values, adjusted))
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    assert all(adjusted[a] <= adjusted[b] for a, b in zip(order, order[1:]))
    # Strict "<" against the procedure's "≤" differs only at equality; skip those knife-edge draws.
    if not any(abs(adj - alpha) < 1e-12 for adj in adjusted):
        assert [adj <= alpha for adj in adjusted] == _holm_rejections(p_values, alpha)
