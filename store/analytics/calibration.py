"""Calibration over the read model: does a backend's self-reported confidence match the quality it gets?

A reliability curve bins records by confidence (10 bins of 0.1 over [0, 1], the last including 1.0) and
compares, per bin and backend, the average confidence with the average quality. The expected calibration
error (ECE) is the count-weighted mean gap: sum over bins of (n_bin / n) * |avg confidence - avg quality|;
0 is perfectly calibrated. Only records holding both a confidence and a quality count.

Quality scores of different metric versions are not comparable, so the result also counts the scored
records of the range by `metric_version` (`None`: scored before versions were stored, or demo data); the
page says so when there is more than one.
"""

from __future__ import annotations

from store.analytics.queries import date_range
from store.analytics.ranges import DateRange, backends_for, where
from store.analytics.read_model import TABLE

CALIBRATION_BINS = 10
CALIBRATION_COLUMNS = ("backend", "bin", "bin_start", "bin_end", "count", "avg_confidence", "avg_quality", "gap")


def calibration(con, start=None, end=None, *, backend=None, model=None) -> dict:
    """`{"bins": DataFrame, "ece": {backend: float | None}, "counts": {backend: int},
    "metric_versions": {version or None: count}}` for the range.

    `bins` has one row per non-empty (backend, bin) with CALIBRATION_COLUMNS; `gap` is avg_quality -
    avg_confidence (negative: over-confident). `ece` is None for a backend without scored records.
    """
    return calibration_in(con, date_range(con, start, end), backend, model)


def calibration_in(con, rng: DateRange | None, backend, model) -> dict:
    """`calibration` for a resolved range (None: no data)."""
    import pandas as pd

    kinds = backends_for(backend)
    empty = {"bins": pd.DataFrame({name: [] for name in CALIBRATION_COLUMNS}), "ece": dict.fromkeys(kinds),
             "counts": dict.fromkeys(kinds, 0), "metric_versions": {}}
    if rng is None:
        return empty
    clause, params = where(rng, backend, model)
    scored = f"{clause} AND confidence IS NOT NULL AND quality IS NOT NULL"
    # The epsilon keeps a confidence like 0.3 (stored as 0.29999...) in the bin its text names.
    rows = con.execute(
        f"SELECT backend, least(CAST(floor(confidence * {CALIBRATION_BINS} + 1e-9) AS BIGINT), {CALIBRATION_BINS - 1}) "
        f"AS bin, count(*), avg(confidence), avg(quality) FROM {TABLE} WHERE {scored} GROUP BY ALL ORDER BY 1, 2",
        params,
    ).fetchall()
    versions = con.execute(
        f"SELECT metric_version, count(*) FROM {TABLE} WHERE {clause} AND quality IS NOT NULL GROUP BY ALL ORDER BY 1",
        params,
    ).fetchall()
    width = 1 / CALIBRATION_BINS
    frame = pd.DataFrame(
        [(kind, int(b), b * width, (b + 1) * width, int(n), float(c), float(q), float(q) - float(c))
         for kind, b, n, c, q in rows],
        columns=list(CALIBRATION_COLUMNS),
    )
    counts = {kind: int(frame.loc[frame["backend"] == kind, "count"].sum()) for kind in kinds}
    ece = {}
    for kind in kinds:
        part = frame[frame["backend"] == kind]
        ece[kind] = float((part["count"] * part["gap"].abs()).sum() / counts[kind]) if counts[kind] else None
    return {"bins": frame, "ece": ece, "counts": counts,
            "metric_versions": {(None if v is None else int(v)): int(n) for v, n in versions}}
