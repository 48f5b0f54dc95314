"""Aggregates over the read model (`records`, see `store/analytics/read_model.py`). Results are plain data.

Percentiles are exact: DuckDB's `quantile_cont`, which interpolates linearly between the two nearest
ranks exactly as numpy's default (`method="linear"`) does. Averages and percentiles skip NULLs; a
metric with no values is None in a dict and NaN in a DataFrame.
"""

from __future__ import annotations

from datetime import date
from types import MappingProxyType
from typing import TYPE_CHECKING

import duckdb

from store.analytics.ranges import (
    BUCKETS,
    AnalyticsQueryError,
    DateRange,
    backends_for,
    choose_bucket,
    literal,
    normalise_backend,
    resolve_range,
    where,
)
from store.analytics.read_model import TABLE

if TYPE_CHECKING:
    import pandas as pd

# pandas (and numpy) are imported where a DataFrame is built: importing pandas costs ~0.35 s, which a
# fresh `prompt-improver stats` (dicts only) should not pay.

METRICS = ("count", "avg_confidence", "avg_quality", "avg_latency_ms", "p50_latency_ms", "p95_latency_ms")
# One quantile_cont with a list of fractions sorts each group once (two calls sorted twice: 2x slower).
LATENCY_PERCENTILES = "quantile_cont(latency_ms, [0.5, 0.95])"
_AGGREGATES = (
    "count(*) AS count, avg(confidence) AS avg_confidence, avg(quality) AS avg_quality, "
    f"avg(latency_ms) AS avg_latency_ms, {LATENCY_PERCENTILES} AS latency_percentiles"
)
_INTERVALS = MappingProxyType({"hour": "INTERVAL 1 HOUR", "day": "INTERVAL 1 DAY", "week": "INTERVAL 7 DAY"})


def date_range(con: duckdb.DuckDBPyConnection, start: date | None, end: date | None) -> DateRange | None:
    """The inclusive UTC range a query covers; missing bounds come from the first/last record."""
    if start is not None and end is not None:
        return resolve_range(start, end, None, None)  # both given: no need to scan for the first/last record
    first, last = con.execute(f"SELECT min(ts), max(ts) FROM {TABLE}").fetchone()
    return resolve_range(start, end, first, last)


def _empty_metrics() -> dict:
    return {name: (0 if name == "count" else None) for name in METRICS}


def _metrics(row: tuple) -> dict:
    count, confidence, quality, latency, percentiles = row
    p50, p95 = percentiles if percentiles is not None else (None, None)
    values = (count, confidence, quality, latency, p50, p95)
    return {name: (int(value) if name == "count" else _plain(value)) for name, value in zip(METRICS, values)}


def _plain(value: object) -> float | None:
    return None if value is None else float(value)


def period_kpis(con: duckdb.DuckDBPyConnection, rng: DateRange, backend: str | None, model: str | None) -> dict:
    """Count, averages and latency percentiles for one range: overall and under `by_backend`."""
    clause, params = where(rng, backend, model)
    one_backend = normalise_backend(backend) is not None
    sql = f"SELECT backend, {_AGGREGATES} FROM {TABLE} WHERE {clause} GROUP BY backend"
    if not one_backend:
        # The overall row as its own ungrouped aggregate, not `GROUPING SETS ((), (backend))`: DuckDB ran
        # that single-threaded, 2.5x slower over a year of 1M rows. (With one backend chosen, its group is
        # the whole range: no second pass.)
        sql += f" UNION ALL SELECT NULL, {_AGGREGATES} FROM {TABLE} WHERE {clause}"
    result = {**rng.as_dict(), **_empty_metrics(), "by_backend": {name: _empty_metrics() for name in backends_for(backend)}}
    for name, *values in con.execute(sql, params).fetchall():
        if name is None:
            result.update(_metrics(tuple(values)))
        else:
            result["by_backend"][name] = _metrics(tuple(values))
            if one_backend:
                result.update(_metrics(tuple(values)))
    return result


def kpis(con, start=None, end=None, *, backend=None, model=None) -> dict:
    """KPIs for the range and, when `start` is given, for the previous period of equal length.

    Returns:
        `{"start", "end", "count", "avg_confidence", "avg_quality", "avg_latency_ms", "p50_latency_ms",
        "p95_latency_ms", "by_backend": {backend: {same metrics}}, "previous": {same, or None}}`;
        with no data and no dates, start and end are None and every metric empty.
    """
    return kpis_in(con, date_range(con, start, end), backend, model, with_previous=start is not None)


def kpis_in(con, rng: DateRange | None, backend, model, *, with_previous: bool) -> dict:
    """`kpis` for a resolved range (None: no data)."""
    if rng is None:
        empty = {"start": None, "end": None, **_empty_metrics()}
        return {**empty, "by_backend": {name: _empty_metrics() for name in backends_for(backend)}, "previous": None}
    result = period_kpis(con, rng, backend, model)
    previous = rng.previous() if with_previous else None
    result["previous"] = period_kpis(con, previous, backend, model) if previous is not None else None
    return result


def statistics(con, start=None, end=None, *, backend=None, model=None) -> dict:
    """The original design's statistics keys plus percentiles, quality and a per-backend breakdown."""
    current = kpis(con, start, end, backend=backend, model=model)

    def legacy(metrics: dict) -> dict:
        return {
            "count": metrics["count"],
            "average_confidence": metrics["avg_confidence"],
            "average_quality": metrics["avg_quality"],
            "average_latency_ms": metrics["avg_latency_ms"],
            "p50_latency_ms": metrics["p50_latency_ms"],
            "p95_latency_ms": metrics["p95_latency_ms"],
        }

    overall = legacy(current)
    return {
        "start": current["start"],
        "end": current["end"],
        "total_count": overall.pop("count"),
        **overall,
        "backend_distribution": {name: m["count"] for name, m in current["by_backend"].items()},
        "by_backend": {name: legacy(m) for name, m in current["by_backend"].items()},
    }


def timeseries(con, start=None, end=None, *, backend=None, model=None, bucket: str | None = None) -> pd.DataFrame:
    """Per bucket x backend: count, avg confidence/quality, p50/p95 latency; empty buckets kept (count 0).

    Columns: `bucket` (UTC bucket start, tz-aware), `backend`, `count`, `avg_confidence`, `avg_quality`,
    `p50_latency_ms`, `p95_latency_ms`. The bucket is `choose_bucket(range)` unless given.
    """
    return timeseries_in(con, date_range(con, start, end), backend, model, bucket)


def timeseries_in(con, rng: DateRange | None, backend, model, bucket: str | None = None) -> pd.DataFrame:
    """`timeseries` for a resolved range (None: no data)."""
    import pandas as pd

    columns = ["bucket", "backend", "count", "avg_confidence", "avg_quality", "p50_latency_ms", "p95_latency_ms"]
    if rng is None:
        return pd.DataFrame({name: pd.Series(dtype="float64") for name in columns})
    bucket = bucket or choose_bucket(rng)
    if bucket not in BUCKETS:
        raise AnalyticsQueryError(f"bucket must be one of {', '.join(BUCKETS)}, got {bucket!r}")
    clause, params = where(rng, backend, model)
    frame = con.execute(
        f"""
        WITH slots AS (
            SELECT unnest(generate_series(date_trunc('{bucket}', {literal(rng.lo)}),
                                          date_trunc('{bucket}', {literal(rng.last)}),
                                          {_INTERVALS[bucket]})) AS bucket
        ), kinds AS (SELECT unnest({literal(backends_for(backend))}::VARCHAR[]) AS backend),
        agg AS (
            SELECT date_trunc('{bucket}', ts) AS bucket, backend, count(*) AS count,
                   avg(confidence) AS avg_confidence, avg(quality) AS avg_quality,
                   {LATENCY_PERCENTILES} AS latency
            FROM {TABLE} WHERE {clause} GROUP BY ALL
        )
        SELECT s.bucket, k.backend, coalesce(a.count, 0) AS count, a.avg_confidence, a.avg_quality,
               a.latency[1] AS p50_latency_ms, a.latency[2] AS p95_latency_ms
        FROM slots s CROSS JOIN kinds k LEFT JOIN agg a ON a.bucket = s.bucket AND a.backend = k.backend
        ORDER BY s.bucket, k.backend
        """,
        params,
    ).df()
    frame["bucket"] = pd.to_datetime(frame["bucket"]).dt.tz_localize("UTC")
    frame["count"] = frame["count"].astype("int64")
    for name in columns[3:]:
        frame[name] = frame[name].astype("float64")
    return frame[columns]


def _distribution(con, column: str, label: str, start, end, backend, model, limit: int | None = None) -> pd.DataFrame:
    return distribution_in(con, date_range(con, start, end), column, label, backend, model, limit)


def distribution_in(
    con, rng: DateRange | None, column: str, label: str, backend, model, limit: int | None = None,
    total: int | None = None,
) -> pd.DataFrame:
    """Counts per `column` value in a resolved range; `total` (the range's record count) saves a query."""
    import pandas as pd

    columns = [label, "count", "share"]
    if rng is None:
        return pd.DataFrame({label: pd.Series(dtype="object"), "count": pd.Series(dtype="int64"),
                             "share": pd.Series(dtype="float64")})
    clause, params = where(rng, backend, model)
    skip_blank = f" AND {column} <> ''" if column in ("framework", "role") else ""
    limit_sql = f" LIMIT {int(limit):d}" if limit is not None else ""
    frame = con.execute(
        f"""
        SELECT {column} AS "{label}", count(*) AS count, count(*) / sum(count(*)) OVER () AS share
        FROM {TABLE} WHERE {clause}{skip_blank} GROUP BY 1 ORDER BY count DESC, 1{limit_sql}
        """,
        params,
    ).df()
    if total is None:
        total = count_in(con, rng, backend, model)
    # The share is of every record in the range (blank frameworks/roles included), not of the top N.
    frame["share"] = frame["count"] / total if total else frame["share"]
    frame["count"] = frame["count"].astype("int64")
    return frame[columns]


def count_in(con, rng: DateRange, backend, model) -> int:
    """The number of records in a resolved range that match the filters."""
    clause, params = where(rng, backend, model)
    return int(con.execute(f"SELECT count(*) FROM {TABLE} WHERE {clause}", params).fetchone()[0])


def backend_distribution(con, start=None, end=None, *, backend=None, model=None) -> pd.DataFrame:
    """Columns `backend`, `count`, `share` (of the range's records), largest first."""
    return _distribution(con, "backend", "backend", start, end, backend, model)


def model_distribution(con, start=None, end=None, *, backend=None, model=None) -> pd.DataFrame:
    """Columns `model`, `count`, `share`, largest first."""
    return _distribution(con, "model", "model", start, end, backend, model)


def top_frameworks(con, start=None, end=None, *, backend=None, model=None, limit: int = 10) -> pd.DataFrame:
    """The `limit` most used frameworks: columns `framework`, `count`, `share`; blank frameworks skipped."""
    return _distribution(con, "framework", "framework", start, end, backend, model, check_limit(limit))


def top_roles(con, start=None, end=None, *, backend=None, model=None, limit: int = 10) -> pd.DataFrame:
    """The `limit` most used roles: columns `role`, `count`, `share`; blank roles skipped."""
    return _distribution(con, "role", "role", start, end, backend, model, check_limit(limit))


def check_limit(limit: int) -> int:
    """`limit` unchanged when it is a whole number >= 1.

    Raises:
        AnalyticsQueryError: naming the value otherwise.
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise AnalyticsQueryError(f"limit must be a whole number >= 1, got {limit!r}")
    return limit


def unpaired_samples(con, start=None, end=None, metric: str = "quality", *, backend=None, model=None) -> dict:
    """`{backend: [values]}` of one metric (`confidence`, `quality` or `latency_ms`), NULLs left out."""
    if metric not in ("confidence", "quality", "latency_ms"):
        raise AnalyticsQueryError(f"metric must be confidence, quality or latency_ms, got {metric!r}")
    samples = {name: [] for name in backends_for(backend)}
    rng = date_range(con, start, end)
    if rng is None:
        return samples
    clause, params = where(rng, backend, model)
    rows = con.execute(
        f"SELECT backend, list({metric} ORDER BY id) FROM {TABLE} WHERE {clause} AND {metric} IS NOT NULL GROUP BY backend",
        params,
    ).fetchall()
    samples.update({name: [float(v) for v in values] for name, values in rows})
    return samples
