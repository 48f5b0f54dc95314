"""Conversion of numpy scalars to plain JSON values, so `json.dumps` never meets NaN or numpy types."""

from __future__ import annotations

import math

import numpy as np


def plain(value: object) -> object:
    """Return `value` as a plain Python bool, int, float, str or None.

    Args:
        value: a Python or numpy scalar, or None.

    Returns:
        The same value as a built-in type; NaN and infinities become None (JSON has no NaN).
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    number = float(value)  # type: ignore[arg-type]
    return number if math.isfinite(number) else None
