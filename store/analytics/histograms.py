"""Confidence, quality and latency histograms by backend over the read model.

Confidence and quality use 20 bins of 0.05 over [0, 1] (the last bin includes 1.0). Latency uses 20
equal bins between its minimum and maximum, or, when the positive values span two decades or more
(max / min >= 100), bins on a log scale: 4 per decade between powers of ten (zeros go into the first
bin). Bins are half-open `[bin_start, bin_end)` except the last, which includes its end.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from store.analytics.queries import date_range
from store.analytics.ranges import DateRange, backends_for, where
from store.analytics.read_model import TABLE

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

# pandas (and numpy) are imported where a DataFrame is built: importing pandas costs ~0.35 s, which a
# fresh `prompt-improver stats` (dicts only) should not pay.

UNIT_BINS = 20
LATENCY_BINS = 20
LOG_BINS_PER_DECADE = 4
LOG_SCALE_RATIO = 100.0
HISTOGRAM_COLUMNS = ("backend", "bin", "bin_start", "bin_end", "count", "log_scale")


def histograms(con, start=None, end=None, *, backend=None, model=None) -> dict[str, pd.DataFrame]:
    """`{"confidence": df, "quality": df, "latency_ms": df}`, each with every bin for every backend.

    Columns: `backend`, `bin` (0-based), `bin_start`, `bin_end` (the bin edges, for labels), `count`,
    `log_scale` (True when the bins are logarithmic). A range with no values gives empty frames.
    """
    return histograms_in(con, date_range(con, start, end), backend, model)


def histograms_in(con, rng: DateRange | None, backend, model) -> dict[str, pd.DataFrame]:
    """`histograms` for a resolved range (None: no data)."""
    import numpy as np

    result = {name: _empty() for name in ("confidence", "quality", "latency_ms")}
    if rng is None:
        return result
    clause, params = where(rng, backend, model)
    kinds = backends_for(backend)
    unit_edges = np.linspace(0.0, 1.0, UNIT_BINS + 1)
    # One scan bins confidence and quality together and finds the latency range (from each group's
    # extremes): two passes over the range instead of four.
    # The epsilon keeps a value like 0.15 (stored as 0.1499999...) in the bin its text names.
    # (least() skips NULLs, so a missing value is kept NULL explicitly rather than landing in the last bin.)
    unit = [
        f"CASE WHEN {metric} IS NOT NULL THEN least(CAST(floor({metric} * {UNIT_BINS} + 1e-9) AS BIGINT), {UNIT_BINS - 1}) END"
        for metric in ("confidence", "quality")
    ]
    rows = con.execute(
        f"SELECT backend, {unit[0]} AS confidence_bin, {unit[1]} AS quality_bin, count(*), min(latency_ms), "
        f"min(latency_ms) FILTER (WHERE latency_ms > 0), max(latency_ms) FROM {TABLE} WHERE {clause} GROUP BY ALL",
        params,
    ).fetchall()
    for position, metric in enumerate(("confidence", "quality")):
        counts: dict[tuple[str, int], int] = {}
        for row in rows:
            if row[1 + position] is not None:
                key = (row[0], int(row[1 + position]))
                counts[key] = counts.get(key, 0) + int(row[3])
        result[metric] = _frame(counts, kinds, unit_edges, log_scale=False)
    low = min((row[4] for row in rows if row[4] is not None), default=None)
    low_positive = min((row[5] for row in rows if row[5] is not None), default=None)
    high = max((row[6] for row in rows if row[6] is not None), default=None)
    if high is None:
        return result
    edges, log_scale = latency_edges(low, low_positive, high)
    bins = len(edges) - 1
    if log_scale:
        lowest = float(edges[0])
        position = f"(log10(greatest(latency_ms, {lowest!r})) - {math.log10(lowest)!r}) * {LOG_BINS_PER_DECADE}"
    else:
        position = f"(latency_ms - {float(edges[0])!r}) / {float(edges[-1] - edges[0]) / bins!r}"
    index = f"greatest(least(CAST(floor({position} + 1e-9) AS BIGINT), {bins - 1}), 0)"
    result["latency_ms"] = _binned(con, "latency_ms", index, clause, params, kinds, edges, log_scale=log_scale)
    return result


def latency_edges(low: float, low_positive: float | None, high: float) -> tuple[np.ndarray, bool]:
    """Bin edges for latencies from `low` to `high`, and whether they are on a log scale."""
    import numpy as np

    if low_positive is not None and high / low_positive >= LOG_SCALE_RATIO:
        first, last = math.floor(math.log10(low_positive)), math.ceil(math.log10(high))
        steps = (last - first) * LOG_BINS_PER_DECADE
        return 10.0 ** (first + np.arange(steps + 1) / LOG_BINS_PER_DECADE), True
    if high == low:
        return np.array([low, low + 1.0]), False
    return np.linspace(low, high, LATENCY_BINS + 1), False


def _binned(con, metric, index_sql, clause, params, kinds, edges, *, log_scale) -> pd.DataFrame:
    rows = con.execute(
        f"SELECT backend, {index_sql} AS bin, count(*) FROM {TABLE} "
        f"WHERE {clause} AND {metric} IS NOT NULL GROUP BY ALL",
        params,
    ).fetchall()
    return _frame({(name, int(position)): int(count) for name, position, count in rows}, kinds, edges, log_scale=log_scale)


def _frame(counts: dict[tuple[str, int], int], kinds, edges, *, log_scale: bool) -> pd.DataFrame:
    import pandas as pd

    bins = len(edges) - 1
    frame = pd.DataFrame(
        {
            "backend": [name for name in kinds for _ in range(bins)],
            "bin": [position for _ in kinds for position in range(bins)],
            "bin_start": [float(edges[position]) for _ in kinds for position in range(bins)],
            "bin_end": [float(edges[position + 1]) for _ in kinds for position in range(bins)],
            "count": [counts.get((name, position), 0) for name in kinds for position in range(bins)],
        }
    )
    frame["count"] = frame["count"].astype("int64")
    frame["log_scale"] = log_scale
    return frame[list(HISTOGRAM_COLUMNS)]


def _empty() -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(
        {
            "backend": pd.Series(dtype="object"),
            "bin": pd.Series(dtype="int64"),
            "bin_start": pd.Series(dtype="float64"),
            "bin_end": pd.Series(dtype="float64"),
            "count": pd.Series(dtype="int64"),
            "log_scale": pd.Series(dtype="bool"),
        }
    )
