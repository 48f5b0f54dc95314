"""KPI tiles for the Analytics page: values and deltas against the previous period, as display text."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from dashboard._ui import fmt_latency

NO_CHANGE = "no change"
LATENCY_SPARK_NOTE = (
    "The sparkline shows it per time bucket; a bucket with both backends shows their count-weighted mean "
    "(an approximation of the combined percentile)."
)


@dataclass(frozen=True, slots=True)
class Tile:
    """One KPI tile: label, value text, delta text (None when there is nothing to compare), colour rule."""

    label: str
    value: str
    delta: str | None
    delta_color: str  # "normal": up is good; "inverse": up is bad (latency)
    help: str
    metric: str  # the KPI key, for the sparkline
    delta_arrow: str = "auto"  # "off" for no change: neither a green up nor a red down arrow

    def __post_init__(self) -> None:
        # A change that rounds to nothing ("-0.000", "+0 ms", "+0.0%") is no change: say so, in grey, with
        # no arrow, instead of a red "↓ -0.000".
        if self.delta is not None and not re.sub(r"[^0-9]", "", self.delta).strip("0"):
            object.__setattr__(self, "delta", NO_CHANGE)
            object.__setattr__(self, "delta_color", "off")
            object.__setattr__(self, "delta_arrow", "off")


def _number(value: object) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if number != number else number  # NaN means "no data"


MIN_PREVIOUS_FOR_PERCENT = 20  # fewer records before: a percentage would be noise ("+352%" from 7 records)
MAX_RATIO_FOR_PERCENT = 10  # more than 10x the previous period: say how many more, not "+22527%"


def _count_delta(current: int, previous: int | None) -> str | None:
    """The change in the number of records: a percentage, or a signed count when a percentage would mislead.

    The rule: no delta without records in the previous period; a percentage when the previous period has at
    least MIN_PREVIOUS_FOR_PERCENT records and the current one at most MAX_RATIO_FOR_PERCENT times as many
    (one decimal under 10 %, so a small dip reads "-0.4%", not "-0%"); otherwise the difference in records,
    e.g. "+19,836".
    """
    if not previous:
        return None
    if previous < MIN_PREVIOUS_FOR_PERCENT or current > MAX_RATIO_FOR_PERCENT * previous:
        return f"{current - previous:+,}"
    change = (current - previous) / previous
    return f"{change:+.1%}" if abs(change) < 0.1 else f"{change:+.0%}"


def _score_delta(current: float | None, previous: float | None) -> str | None:
    if current is None or previous is None:
        return None
    return f"{current - previous:+.3f}"


def _latency_delta(current: float | None, previous: float | None) -> str | None:
    if current is None or previous is None:
        return None
    change = current - previous
    sign = "+" if change >= 0 else "-"
    return sign + fmt_latency(abs(change))


def tiles(kpis: dict, period_label: str) -> list[Tile]:
    """The five tiles — improvements, average confidence and quality, p50 and p95 latency.

    Args:
        kpis: the worker's KPIs (`count`, `avg_confidence`, …, and `previous` with the same keys or None).
        period_label: how the comparison is described in the tooltip ("the previous 30 days").
    """
    previous = kpis.get("previous") or None
    if previous is not None and not previous.get("count"):
        previous = None  # an empty previous period gives no meaningful delta
    prev = previous or {}
    count = int(kpis.get("count") or 0)
    compare = f"Compared with {period_label}." if previous else "No data in the previous period to compare with."
    count_compare = (
        f"Compared with {period_label}: {int(prev['count']):,} record(s). A percentage is shown from "
        f"{MIN_PREVIOUS_FOR_PERCENT} records before and up to {MAX_RATIO_FOR_PERCENT}x as many, else the difference."
        if previous else compare
    )
    confidence, quality = _number(kpis.get("avg_confidence")), _number(kpis.get("avg_quality"))
    p50, p95 = _number(kpis.get("p50_latency_ms")), _number(kpis.get("p95_latency_ms"))
    return [
        Tile("Improvements", f"{count:,}", _count_delta(count, prev.get("count")), "normal",
             f"Records in the range. {count_compare}", "count"),
        Tile("Avg confidence", "–" if confidence is None else f"{confidence:.3f}",
             _score_delta(confidence, _number(prev.get("avg_confidence"))), "normal",
             f"The model's own confidence, 0–1. {compare}", "avg_confidence"),
        Tile("Avg quality", "–" if quality is None else f"{quality:.3f}",
             _score_delta(quality, _number(prev.get("avg_quality"))), "normal",
             f"The rubric score of the structured prompt, 0–1. {compare}", "avg_quality"),
        Tile("p50 latency", fmt_latency(p50), _latency_delta(p50, _number(prev.get("p50_latency_ms"))), "inverse",
             f"Median model-call time. Lower is better. {compare} {LATENCY_SPARK_NOTE}", "p50_latency_ms"),
        Tile("p95 latency", fmt_latency(p95), _latency_delta(p95, _number(prev.get("p95_latency_ms"))), "inverse",
             f"95th-percentile model-call time. Lower is better. {compare} {LATENCY_SPARK_NOTE}", "p95_latency_ms"),
    ]


def sparklines(series: pd.DataFrame) -> dict[str, list[float]]:
    """Per-bucket values for every tile, oldest first, from the time series (`bucket`, `backend`, `count`, …).

    Counts and average scores are exact (sums and count-weighted means). A bucket's latency percentile over
    both backends cannot be rebuilt from the per-backend percentiles: it is exact when one backend has records
    in the bucket, else the count-weighted mean of the backends' percentiles (the tiles' help says so).
    """
    if series.empty or series["bucket"].nunique() < 2:
        return {}
    columns = ["avg_confidence", "avg_quality", "p50_latency_ms", "p95_latency_ms"]
    frame = series.assign(count=series["count"].fillna(0))
    weighted = {}
    for column in columns:
        values = pd.to_numeric(frame[column], errors="coerce")
        has_value = values.notna() & (frame["count"] > 0)
        weighted[f"{column}_sum"] = (values.fillna(0) * frame["count"]).where(has_value, 0.0)
        weighted[f"{column}_n"] = frame["count"].where(has_value, 0)
    per = frame.assign(**weighted).groupby("bucket", sort=True)
    totals = per[["count"] + list(weighted)].sum()
    lines = {"count": totals["count"].astype(float).tolist()}
    for column in columns:
        counts = totals[f"{column}_n"].where(totals[f"{column}_n"] > 0)
        lines[column] = (totals[f"{column}_sum"] / counts).dropna().round(4).tolist()
    return lines
