"""Turning user-facing sequences (lists with None, pandas Series with NaN) into clean float arrays.

Records with a failed model call or a missing score carry None or NaN; every statistic here drops them
explicitly and reports how many were dropped, so a missing value is never silently read as zero.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from pipeline.statistics.errors import InvalidParameter, MismatchedPairs


def _to_float(index: int, value: object) -> float:
    # pandas' nullable columns hold pd.NA, which float() refuses; it means "missing" like None.
    if value is None or type(value).__name__ == "NAType":
        return math.nan
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidParameter(f"value at index {index} is not a number: {value!r}") from None


def as_float_array(values: Sequence[object] | np.ndarray) -> np.ndarray:
    """Convert a sequence to a 1-D float array, with None (and pandas' NA) turned into NaN.

    Args:
        values: numbers, None or NaN; any iterable of scalars (list, tuple, numpy array, pandas Series).

    Returns:
        A new 1-D float64 array of the same length.

    Raises:
        InvalidParameter: naming the first value that is not a number (e.g. a string).
    """
    if isinstance(values, np.ndarray) and values.ndim == 1 and values.dtype.kind in "biuf":
        return values.astype(float)
    return np.array([_to_float(i, v) for i, v in enumerate(values)], dtype=float)


def drop_missing(values: Sequence[object] | np.ndarray) -> tuple[np.ndarray, int]:
    """Remove None, NaN and infinities from one sample.

    Args:
        values: the sample.

    Returns:
        `(finite_values, n_dropped)`.
    """
    array = as_float_array(values)
    keep = np.isfinite(array)
    return array[keep], int(array.size - keep.sum())


def aligned_pairs(
    zero_shot: Sequence[object] | np.ndarray, few_shot: Sequence[object] | np.ndarray
) -> tuple[np.ndarray, np.ndarray, int]:
    """Keep the items where both backends have a value.

    Args:
        zero_shot: one value per evaluation item, aligned by position with `few_shot`.
        few_shot: one value per evaluation item.

    Returns:
        `(zero_shot_values, few_shot_values, n_dropped)` where a pair is dropped when either side is
        None, NaN or infinite.

    Raises:
        MismatchedPairs: when the two sequences differ in length (they would be misaligned).
    """
    zero = as_float_array(zero_shot)
    few = as_float_array(few_shot)
    if zero.size != few.size:
        raise MismatchedPairs(
            f"zero-shot has {zero.size} values and few-shot has {few.size}; paired inputs must be aligned by item"
        )
    keep = np.isfinite(zero) & np.isfinite(few)
    return zero[keep], few[keep], int(zero.size - keep.sum())


def check_confidence(confidence: float) -> float:
    """Validate a confidence level.

    Args:
        confidence: e.g. 0.95.

    Returns:
        The level as a float.

    Raises:
        InvalidParameter: unless 0 < confidence < 1.
    """
    if not 0.0 < float(confidence) < 1.0:
        raise InvalidParameter(f"confidence must be between 0 and 1 (exclusive), got {confidence!r}")
    return float(confidence)


def stable_mean(values: np.ndarray) -> float:
    """The mean, exactly the common value when all values are equal.

    A constant sample's float mean can miss the constant by one ulp, while its bootstrap interval is the
    constant itself; a reported mean must lie inside its own interval.

    Args:
        values: a non-empty float array.

    Returns:
        The mean as a float.
    """
    return float(values[0]) if np.all(values == values[0]) else float(np.mean(values))
