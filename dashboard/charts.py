"""Pure Altair chart builders: DataFrames in, `alt.Chart` out, no Streamlit and no I/O (tests call them).

Every chart has tooltips, titled axes with units, and one colour per backend that is the same on every
chart. Times are shown in UTC (the analytics are computed in UTC): the temporal scales are `utc` and the
tooltips show a label computed here, not the browser's local time.

Input frames (as `dashboard/_queries.py` normalises the analytics worker's results):
- time series: `bucket` (datetime, UTC), `backend`, `count`, `avg_confidence`, `avg_quality`,
  `p50_latency_ms`, `p95_latency_ms`
- distribution: `backend` (or `model`), `count`
- histogram: `backend`, `bin_start`, `bin_end`, `count`
- top list: `name`, `count`
"""

from __future__ import annotations

import altair as alt
import pandas as pd

BACKENDS = ["zero-shot", "few-shot"]
BACKEND_COLORS = ["#F59E0B", "#4F46E5"]  # amber for the uncompiled program, the theme's indigo for few-shot
LEGEND_SPACING = {"offset": 8, "padding": 0, "titleOrient": "left"}  # untitled legends reserve no title row
BACKEND_COLOR = alt.Color(
    "backend:N",
    title="Backend",
    scale=alt.Scale(domain=BACKENDS, range=BACKEND_COLORS),
    legend=alt.Legend(orient="top", title=None, direction="horizontal", columns=len(BACKENDS), **LEGEND_SPACING),
)
BUCKET_LABELS = {"hour": "Hour (UTC)", "day": "Day (UTC)", "week": "Week starting (UTC)"}
BUCKET_STEPS = {"hour": pd.Timedelta(hours=1), "day": pd.Timedelta(days=1), "week": pd.Timedelta(days=7)}
CHART_HEIGHT = 340
PERCENTILES = ["p50", "p95"]
PERCENTILE_DASHES = {"p50": [1, 0], "p95": [5, 3]}  # solid, dashed
TITLE_OFFSET = 10  # Streamlit's theme puts 26 px under a title; legends sit right under it instead


def _title(text: str, subtitle: str | None = None) -> alt.Title:
    """A chart title (and subtitle) that sits right above the legend."""
    if subtitle is None:
        return alt.Title(text, offset=TITLE_OFFSET)
    return alt.Title(text, subtitle=subtitle, offset=TITLE_OFFSET, subtitlePadding=2)


def _bucket_label(buckets: pd.Series, bucket: str) -> pd.Series:
    moments = pd.to_datetime(buckets, utc=True)
    if bucket == "hour":
        return moments.dt.strftime("%Y-%m-%d %H:00 UTC")
    if bucket == "week":
        return "week of " + moments.dt.strftime("%Y-%m-%d")
    return moments.dt.strftime("%a %Y-%m-%d")


def _time_axis(bucket: str) -> alt.X:
    fmt = "%b %d %H:%M" if bucket == "hour" else "%b %d"
    step = BUCKET_STEPS.get(bucket, BUCKET_STEPS["day"])
    return alt.X(
        "bucket:T",
        title=BUCKET_LABELS.get(bucket, "Time (UTC)"),
        scale=alt.Scale(type="utc"),
        # No ticks closer than one bucket: a 7-day range would otherwise label every 12 h as "Nov 20, Nov 20".
        axis=alt.Axis(format=fmt, labelOverlap=True, grid=False, tickMinStep=step / pd.Timedelta(milliseconds=1)),
    )


def _prepare_series(series: pd.DataFrame, bucket: str) -> pd.DataFrame:
    frame = series.copy()
    frame["bucket"] = pd.to_datetime(frame["bucket"], utc=True)
    frame["when"] = _bucket_label(frame["bucket"], bucket)
    return frame


def volume_chart(series: pd.DataFrame, bucket: str = "day") -> alt.Chart:
    """Stacked bars: improvements per time bucket, by backend (empty buckets show as gaps at zero)."""
    frame = _prepare_series(series, bucket)
    # Each bar spans its bucket (a bare time axis draws hairline bars), less a sliver between neighbours.
    step = BUCKET_STEPS.get(bucket, BUCKET_STEPS["day"])
    frame["bucket_end"] = frame["bucket"] + step * 0.85
    return (
        alt.Chart(frame, title=_title("Improvements over time", f"per {bucket}, stacked by backend"))
        .mark_bar()
        .encode(
            x=_time_axis(bucket),
            x2="bucket_end:T",
            y=alt.Y("sum(count):Q", title="Improvements (count)", stack="zero"),
            color=BACKEND_COLOR,
            order=alt.Order("backend:N", sort="descending"),
            tooltip=[
                alt.Tooltip("when:N", title="When"),
                alt.Tooltip("backend:N", title="Backend"),
                alt.Tooltip("sum(count):Q", title="Improvements", format=","),
            ],
        )
        .properties(height=CHART_HEIGHT)
    )


SCORE_TITLES = {"avg_confidence": "Average confidence", "avg_quality": "Average quality"}


def score_chart(series: pd.DataFrame, bucket: str = "day", metric: str = "avg_confidence") -> alt.Chart:
    """Lines: the average of a 0–1 score (`avg_confidence` or `avg_quality`) per time bucket, by backend.

    Buckets without records draw no point (the line breaks instead of dropping to zero).
    """
    title = SCORE_TITLES[metric]
    frame = _prepare_series(series, bucket)
    frame = frame.assign(score=frame[metric]).dropna(subset=["score"])
    return (
        alt.Chart(frame, title=_title(f"{title} over time", f"per {bucket}, by backend"))
        # One mark with a point overlay, not a layer: layering copies the whole spec (slower to render).
        .mark_line(strokeWidth=2, interpolate="monotone", point=alt.OverlayMarkDef(size=16, filled=True))
        .encode(
            x=_time_axis(bucket),
            y=alt.Y("score:Q", title=f"{title} (0–1)", scale=alt.Scale(domain=[0, 1], zero=False)),
            color=BACKEND_COLOR,
            tooltip=[
                alt.Tooltip("when:N", title="When"),
                alt.Tooltip("backend:N", title="Backend"),
                alt.Tooltip("score:Q", title=title, format=".3f"),
                alt.Tooltip("count:Q", title="Improvements", format=","),
            ],
        )
        .properties(height=CHART_HEIGHT)
    )


def latency_unit(values_ms: pd.Series) -> tuple[str, float]:
    """`("s", 1000.0)` when latencies reach seconds, else `("ms", 1.0)`: a readable axis either way."""
    peak = pd.to_numeric(values_ms, errors="coerce").max()
    if pd.notna(peak) and peak >= 2_000:
        return "s", 1000.0
    return "ms", 1.0


def latency_chart(series: pd.DataFrame, bucket: str = "day") -> alt.Chart:
    """Lines: p50 (solid) and p95 (dashed) latency per time bucket, by backend, in ms or s."""
    frame = _prepare_series(series, bucket)
    long = frame.melt(
        id_vars=["bucket", "when", "backend", "count"],
        value_vars=["p50_latency_ms", "p95_latency_ms"],
        var_name="percentile",
        value_name="latency_ms",
    )
    long["percentile"] = long["percentile"].map({"p50_latency_ms": "p50", "p95_latency_ms": "p95"})
    long = long.dropna(subset=["latency_ms"])
    unit, divisor = latency_unit(long["latency_ms"])
    long["latency"] = long["latency_ms"] / divisor
    # One legend, one entry per line with its own colour and dash ("zero-shot p50", "zero-shot p95", …): colour
    # and dash share the `series` field, so Vega-Lite merges them into a single legend of real line samples.
    long["series"] = long["backend"] + " " + long["percentile"]
    series_names = [f"{backend} {percentile}" for backend in BACKENDS for percentile in PERCENTILES]
    legend = alt.Legend(orient="top", title=None, direction="horizontal", columns=len(PERCENTILES), **LEGEND_SPACING,
                        symbolType="stroke", symbolStrokeWidth=2.5, symbolSize=300)
    return (
        alt.Chart(long, title=_title("Latency over time", f"p50 (solid) and p95 (dashed) per {bucket}, by backend"))
        .mark_line(strokeWidth=2, interpolate="monotone")
        .encode(
            x=_time_axis(bucket),
            y=alt.Y("latency:Q", title=f"Latency ({unit})"),
            color=alt.Color(
                "series:N", title="Line",
                scale=alt.Scale(domain=series_names,
                                range=[color for color in BACKEND_COLORS for _ in PERCENTILES]),
                legend=legend,
            ),
            strokeDash=alt.StrokeDash(
                "series:N", title="Line",
                scale=alt.Scale(domain=series_names, range=[PERCENTILE_DASHES[p] for _ in BACKENDS for p in PERCENTILES]),
                legend=legend,
            ),
            tooltip=[
                alt.Tooltip("when:N", title="When"),
                alt.Tooltip("backend:N", title="Backend"),
                alt.Tooltip("percentile:N", title="Percentile"),
                alt.Tooltip("latency:Q", title=f"Latency ({unit})", format=",.2f" if unit == "s" else ",.0f"),
                alt.Tooltip("count:Q", title="Improvements", format=","),
            ],
        )
        .properties(height=CHART_HEIGHT)
    )


def backend_share_chart(distribution: pd.DataFrame) -> alt.Chart:
    """A donut of improvements by backend, with counts and shares in the tooltip."""
    frame = distribution.copy()
    total = frame["count"].sum()
    frame["share"] = frame["count"] / total if total else 0.0
    base = alt.Chart(frame, title=_title("Backend mix", "share of improvements")).encode(
        theta=alt.Theta("count:Q", stack=True),
        color=alt.Color(
            "backend:N", title=None, scale=alt.Scale(domain=BACKENDS, range=BACKEND_COLORS),
            legend=alt.Legend(orient="top", title=None, **LEGEND_SPACING),
        ),
        tooltip=[
            alt.Tooltip("backend:N", title="Backend"),
            alt.Tooltip("count:Q", title="Improvements", format=","),
            alt.Tooltip("share:Q", title="Share", format=".1%"),
        ],
    )
    donut = base.mark_arc(innerRadius=55, outerRadius=90, stroke="#FFFFFF", strokeWidth=2)
    labels = base.mark_text(radius=110, fontSize=13, fontWeight=600).encode(text=alt.Text("share:Q", format=".0%"))
    return (donut + labels).properties(height=CHART_HEIGHT, padding={"left": 24, "right": 24, "top": 0, "bottom": 4})


def histogram_chart(histogram: pd.DataFrame, *, metric: str, unit: str = "", log_scale: bool = False) -> alt.Chart:
    """Overlaid histograms by backend: bars from `bin_start` to `bin_end`, count on the y axis.

    Args:
        metric: the axis label ("Confidence", "Latency").
        unit: shown on the axis and in tooltips ("s", "ms" or "" for unitless scores).
        log_scale: a log x axis (latency spans decades).
    """
    frame = histogram.copy()
    axis_title = f"{metric} ({unit})" if unit else f"{metric} (0–1)"
    number = ",.2f" if unit in ("", "s") else ",.0f"
    x_scale = alt.Scale(type="log") if log_scale else alt.Scale(zero=False)
    return (
        alt.Chart(frame, title=_title(f"{metric} distribution", "by backend, overlaid"))
        .mark_bar(opacity=0.6, binSpacing=0)
        .encode(
            x=alt.X("bin_start:Q", title=axis_title, scale=x_scale, bin="binned"),
            x2="bin_end:Q",
            y=alt.Y("count:Q", title="Improvements (count)", stack=None),
            color=BACKEND_COLOR,
            tooltip=[
                alt.Tooltip("backend:N", title="Backend"),
                alt.Tooltip("bin_start:Q", title="From", format=number),
                alt.Tooltip("bin_end:Q", title="To", format=number),
                alt.Tooltip("count:Q", title="Improvements", format=","),
            ],
        )
        .properties(height=CHART_HEIGHT)
    )


def top_chart(top: pd.DataFrame, *, title: str, label: str) -> alt.Chart:
    """Horizontal bars of the most used names (frameworks, roles), most used first."""
    frame = top.copy()
    return (
        alt.Chart(frame, title=_title(title, "most used in the range"))
        .mark_bar(color="#4F46E5", cornerRadiusEnd=3)
        .encode(
            x=alt.X("count:Q", title="Improvements (count)"),
            y=alt.Y("name:N", title=None, sort="-x", axis=alt.Axis(labelLimit=260, labelOverlap=False)),
            tooltip=[alt.Tooltip("name:N", title=label), alt.Tooltip("count:Q", title="Improvements", format=",")],
        )
        .properties(height=60 + 30 * len(frame))
    )


def calibration_chart(bins: pd.DataFrame, ece: dict[str, float | None]) -> alt.LayerChart:
    """Reliability curve: average quality against average confidence per confidence bin and backend, over
    the dashed diagonal of perfect calibration; point size is the bin's count; the subtitle gives each
    backend's expected calibration error (ECE, 0 = calibrated). Input: `calibration()['bins']` and `['ece']`."""
    frame = bins.copy()
    frame["bin_label"] = [f"{lo:.1f}–{hi:.1f}" for lo, hi in zip(frame["bin_start"], frame["bin_end"])]
    scores = " · ".join(f"{name} {ece[name]:.3f}" for name in BACKENDS if ece.get(name) is not None)
    subtitle = f"ECE {scores} (0 = calibrated)" if scores else "no record has both a confidence and a quality"
    unit = alt.Scale(domain=[0, 1])
    diagonal = (
        alt.Chart(pd.DataFrame({"x": [0.0, 1.0], "y": [0.0, 1.0]}))
        .mark_line(color="#9CA3AF", strokeDash=[4, 4])
        .encode(x=alt.X("x:Q", scale=unit), y=alt.Y("y:Q", scale=unit))
    )
    base = alt.Chart(frame).encode(
        x=alt.X("avg_confidence:Q", title="Self-reported confidence (bin average, 0–1)", scale=unit),
        y=alt.Y("avg_quality:Q", title="Quality score (bin average, 0–1)", scale=unit),
        color=BACKEND_COLOR,
        tooltip=[
            alt.Tooltip("backend:N", title="Backend"),
            alt.Tooltip("bin_label:N", title="Confidence bin"),
            alt.Tooltip("count:Q", title="Improvements", format=","),
            alt.Tooltip("avg_confidence:Q", title="Avg confidence", format=".2f"),
            alt.Tooltip("avg_quality:Q", title="Avg quality", format=".2f"),
            alt.Tooltip("gap:Q", title="Quality − confidence", format="+.2f"),
        ],
    )
    curve = base.mark_line(point=False) + base.mark_circle(opacity=0.85).encode(
        size=alt.Size("count:Q", title="Improvements", legend=None, scale=alt.Scale(range=[30, 400]))
    )
    return alt.layer(diagonal, curve, title=_title("Calibration: confidence vs quality", subtitle)).properties(
        height=CHART_HEIGHT
    )
