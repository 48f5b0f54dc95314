"""Pure Altair builders for the Compare page: paired lines per idea, and the distribution of differences.

Input is a per-item DataFrame as `pipeline.experiment_results.item_summaries` returns it (one row per idea;
`<metric>_zero_shot`, `<metric>_few_shot`, `<metric>_difference`). No Streamlit here: tests call these
functions directly and inspect the chart spec.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

BACKEND_ORDER = ["zero-shot", "few-shot"]
METRIC_TITLES = {"quality": "Quality (0–1)", "confidence": "Confidence (0–1)", "latency_ms": "Latency (ms)"}
HIGHER_IS_BETTER = {"quality": True, "confidence": True, "latency_ms": False}
TITLE_OFFSET = 10  # the same gap under a title as on the Analytics charts (Streamlit's theme leaves 26 px)
OUTCOME_COLORS = {"few-shot better": "#2e7d32", "zero-shot better": "#c62828", "tie": "#9e9e9e"}


def _outcome(difference: float, higher_is_better: bool) -> str:
    if pd.isna(difference) or difference == 0:
        return "tie"
    return "few-shot better" if (difference > 0) == higher_is_better else "zero-shot better"


def paired_long(items: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Two rows per idea (zero-shot, few-shot) with `value` and which backend did better on it."""
    columns = ["item", "idea", "backend", "value", "outcome"]
    if items.empty:
        return pd.DataFrame(columns=columns)
    higher = HIGHER_IS_BETTER[metric]
    frame = items[["item", "idea", f"{metric}_zero_shot", f"{metric}_few_shot", f"{metric}_difference"]].copy()
    frame["outcome"] = [_outcome(d, higher) for d in frame[f"{metric}_difference"]]
    long = frame.melt(
        id_vars=["item", "idea", "outcome"], value_vars=[f"{metric}_zero_shot", f"{metric}_few_shot"],
        var_name="backend", value_name="value",
    )
    long["backend"] = long["backend"].map({f"{metric}_zero_shot": "zero-shot", f"{metric}_few_shot": "few-shot"})
    return long.dropna(subset=["value"])[columns].sort_values(["item", "backend"], ignore_index=True)


def paired_chart(items: pd.DataFrame, metric: str) -> alt.Chart:
    """One line per idea from its zero-shot value to its few-shot value, coloured by which was better."""
    title = METRIC_TITLES[metric]
    data = paired_long(items, metric)
    base = alt.Chart(data).encode(
        x=alt.X("backend:N", sort=BACKEND_ORDER, title=None, axis=alt.Axis(labelAngle=0)),
        y=alt.Y("value:Q", title=title, scale=alt.Scale(zero=False)),
        detail="item:N",
        color=alt.Color(
            "outcome:N", title="On this idea",
            scale=alt.Scale(domain=list(OUTCOME_COLORS), range=list(OUTCOME_COLORS.values())),
        ),
        tooltip=[alt.Tooltip("item:Q", title="Idea #"), alt.Tooltip("idea:N", title="Idea"),
                 alt.Tooltip("backend:N", title="Backend"),
                 alt.Tooltip("value:Q", title=title, format=",.0f" if metric == "latency_ms" else ".3f")],
    )
    return (base.mark_line(opacity=0.6) + base.mark_circle(size=45)).properties(
        height=320, title=alt.Title(f"{title}: each idea, zero-shot → few-shot", offset=TITLE_OFFSET)
    )


ZERO_LABEL = "0 = no difference"


def differences_chart(items: pd.DataFrame, metric: str, *, mean: float | None, ci_low: float | None,
                      ci_high: float | None) -> alt.LayerChart:
    """The per-idea differences (few-shot − zero-shot) as a histogram, with the mean, its 95% interval
    (shaded) and zero (dashed, labelled "0 = no difference") marked."""
    title = METRIC_TITLES[metric]
    column = f"{metric}_difference"
    values = items[[column, "idea"]].dropna().rename(columns={column: "difference"}) if not items.empty else (
        pd.DataFrame(columns=["difference", "idea"]))
    bins = alt.Bin(maxbins=20)
    if len(values) and values["difference"].nunique() == 1:
        # One distinct value (every idea tied, say) makes Vega's bin as wide as the whole axis: one block
        # filling the plot. An extent around the value keeps it one narrow bar at its place.
        value = float(values["difference"].iloc[0])
        pad = max(abs(value) * 0.5, 10.0 if metric == "latency_ms" else 0.05)
        bins = alt.Bin(maxbins=20, extent=[value - pad, value + pad])
    bars = alt.Chart(values).mark_bar(opacity=0.75, color="#5c6bc0").encode(
        x=alt.X("difference:Q", bin=bins, title=f"Difference in {title.lower()}, few-shot − zero-shot"),
        y=alt.Y("count():Q", title="Ideas (count)"),
        tooltip=[alt.Tooltip("count():Q", title="Ideas")],
    )
    marks = pd.DataFrame([{"mean": mean, "ci_low": ci_low, "ci_high": ci_high, "zero": 0.0}])
    layers = [bars]
    if ci_low is not None and ci_high is not None:
        layers.append(alt.Chart(marks).mark_rect(opacity=0.18, color="#ff8f00").encode(
            x="ci_low:Q", x2="ci_high:Q",
            tooltip=[alt.Tooltip("ci_low:Q", title="95% CI low", format=".3f"),
                     alt.Tooltip("ci_high:Q", title="95% CI high", format=".3f")],
        ))
    if mean is not None:
        layers.append(alt.Chart(marks).mark_rule(color="#ff8f00", size=2).encode(
            x="mean:Q", tooltip=[alt.Tooltip("mean:Q", title="Mean difference", format=".3f")]))
    zero = alt.Chart(marks).encode(x="zero:Q")
    layers.append(zero.mark_rule(strokeDash=[4, 4], color="#616161").encode(
        tooltip=[alt.Tooltip("zero:Q", title=ZERO_LABEL)]))
    # Named on the chart itself: an unlabelled dashed line reads as a threshold or an axis artefact.
    layers.append(zero.mark_text(align="left", baseline="top", dx=4, color="#616161", fontSize=11).encode(
        y=alt.value(2), text=alt.value(ZERO_LABEL)))
    return alt.layer(*layers).properties(
        height=320, title=alt.Title(f"{title}: differences, mean and 95% interval", offset=TITLE_OFFSET)
    )
