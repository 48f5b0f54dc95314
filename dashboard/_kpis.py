"""KPI tiles for the Analytics page: values and deltas against the previous period, as display text."""

from __future__ import annotations

from dataclasses import dataclass

from dashboard._ui import fmt_latency


@dataclass(frozen=True, slots=True)
class Tile:
    """One KPI tile: label, value text, delta text (None when there is nothing to compare), colour rule."""

    label: str
    value: str
    delta: str | None
    delta_color: str  # "normal": up is good; "inverse": up is bad (latency)
    help: str
    metric: str  # the KPI key, for the sparkline


def _number(value: object) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if number != number else number  # NaN means "no data"


def _count_delta(current: int, previous: int | None) -> str | None:
    if not previous:
        return None
    change = (current - previous) / previous
    return f"{change:+.0%}"


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
    confidence, quality = _number(kpis.get("avg_confidence")), _number(kpis.get("avg_quality"))
    p50, p95 = _number(kpis.get("p50_latency_ms")), _number(kpis.get("p95_latency_ms"))
    return [
        Tile("Improvements", f"{count:,}", _count_delta(count, prev.get("count")), "normal",
             f"Records in the range. {compare}", "count"),
        Tile("Avg confidence", "–" if confidence is None else f"{confidence:.3f}",
             _score_delta(confidence, _number(prev.get("avg_confidence"))), "normal",
             f"The model's own confidence, 0–1. {compare}", "avg_confidence"),
        Tile("Avg quality", "–" if quality is None else f"{quality:.3f}",
             _score_delta(quality, _number(prev.get("avg_quality"))), "normal",
             f"The rubric score of the structured prompt, 0–1. {compare}", "avg_quality"),
        Tile("p50 latency", fmt_latency(p50), _latency_delta(p50, _number(prev.get("p50_latency_ms"))), "inverse",
             f"Median model-call time. Lower is better. {compare}", "p50_latency_ms"),
        Tile("p95 latency", fmt_latency(p95), _latency_delta(p95, _number(prev.get("p95_latency_ms"))), "inverse",
             f"95th-percentile model-call time. Lower is better. {compare}", "p95_latency_ms"),
    ]
