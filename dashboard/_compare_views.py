"""Rendering one experiment: facts and resume, verdict and summary table, paired charts, drill-down, downloads;
and the unpaired History comparison."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import _compare_data as data
from dashboard import compare_charts
from dashboard._compare_judge import pair_caption as judge_caption
from dashboard._context import AppContext
from dashboard._ui import plain_md
from store.errors import RepositoryError

DRILL_FIELDS = (("role", "Role"), ("directive", "Directive"), ("framework", "Framework"),
                ("guardrails", "Guardrails"), ("improved_prompt", "Prompt"))
STATUS_ICONS = {"completed": ":material/check_circle:", "partial": ":material/warning:",
                "interrupted": ":material/pause_circle:", "running": ":material/hourglass_top:"}


def experiment_label(entry: dict[str, Any]) -> str:
    """`name · 2026-11-26 12:04 · completed · 76/76` for the selector."""
    name = entry["name"] or entry["id"]
    return (f"{name} · {entry['created']:%Y-%m-%d %H:%M} UTC · {entry['status']} · "
            f"{entry['succeeded']}/{entry['planned']} runs")


def _number(value: Any, digits: int = 3, signed: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def _p_text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def facts(summary: dict[str, Any]) -> None:
    """The experiment's model, programs, size, status and counts."""
    st.markdown(
        f"{STATUS_ICONS.get(summary['status'], '')} **{summary['status'].capitalize()}** — "
        f"{summary['succeeded']:,} of {summary['planned']:,} runs succeeded, **{summary['failed']:,} failed** "
        f"(zero-shot {summary['failed_by_backend']['zero-shot']}, few-shot {summary['failed_by_backend']['few-shot']})"
    )
    st.caption(
        f"Experiment `{summary['experiment_id']}` · model `{summary['model_version'] or '–'}` · programs zero-shot "
        f"`{summary['program_version_zero_shot'] or '–'}`, few-shot `{summary['program_version_few_shot'] or '–'}` · "
        f"{summary['items']} ideas × {summary['repeats']} repeat(s) · evaluation set `{summary['eval_set_hash']}`"
    )


def failed_runs(rows: list[dict[str, Any]]) -> None:
    """An expander listing every run without a usable record and why."""
    problems = [(row["item"], row["repeat"], backend, row[f"{key}_error"], row["idea"])
                for row in rows for backend, key in (("zero-shot", "zero_shot"), ("few-shot", "few_shot"))
                if row[f"{key}_error"]]
    if not problems:
        return
    with st.expander(f"Runs without a result ({len(problems)})", icon=":material/error:"):
        frame = pd.DataFrame(problems, columns=["Item", "Repeat", "Backend", "Problem", "Idea"])
        st.dataframe(frame, hide_index=True, width="stretch", key="compare_failed_table")


def verdict(summary: dict[str, Any]) -> None:
    """The plain-language verdict first, then any warning."""
    detected = any(m.get("detected") for m in summary["metrics"].values())
    box = st.success if detected else st.info
    box(f"**{summary['verdict']}**", icon=":material/balance:")
    if summary.get("warning"):
        st.warning(summary["warning"], icon=":material/warning:")


def summary_table(summary: dict[str, Any]) -> None:
    """Per metric: both means (and medians), the difference with its 95% interval, p-values, effect, W/T/L."""
    table = data.summary_table(summary)
    table.insert(1, "Difference [95% CI]", [
        f"{_number(r['Difference (few − zero)'], d, True)} [{_number(r['95% CI low'], d, True)}, "
        f"{_number(r['95% CI high'], d, True)}]"
        for r, d in zip(table.to_dict("records"), (3, 3, 0))
    ])
    for column in ("Wilcoxon p", "p (Holm)"):
        table[column] = [_p_text(value) for value in table[column]]
    table["W / T / L"] = [f"{r['Few-shot wins']} / {r['Ties']} / {r['Few-shot losses']}" for r in table.to_dict("records")]
    digits = (3, 3, 0)  # quality, confidence, latency in ms
    for backend in ("Zero-shot", "Few-shot"):  # mean and median in one column: the table fits without scrolling
        table[f"{backend} mean (median)"] = [
            f"{_number(mean, d)} ({_number(median, d)})"
            for mean, median, d in zip(table[f"{backend} mean"], table[f"{backend} median"], digits)
        ]
    shown = table[["Metric", "Difference [95% CI]", "Zero-shot mean (median)", "Few-shot mean (median)", "Wilcoxon p",
                   "p (Holm)", "Effect size (rank-biserial)", "W / T / L", "Pairs"]]
    shown = shown.astype({"Pairs": "Int64"}, errors="ignore").copy()
    shown["Effect size (rank-biserial)"] = [_number(v, 2, True) for v in shown["Effect size (rank-biserial)"]]
    text = st.column_config.TextColumn
    st.dataframe(
        shown, hide_index=True, width="stretch", key="compare_summary_table",
        column_config={
            "Metric": text("Metric", width=96),
            "Difference [95% CI]": text("Difference [95% CI]", width=180,
                                        help="Few-shot minus zero-shot, per idea; seeded 95% bootstrap interval"),
            "Zero-shot mean (median)": text("Zero-shot", width=116, help="Mean (median) over the ideas"),
            "Few-shot mean (median)": text("Few-shot", width=116, help="Mean (median) over the ideas"),
            "Wilcoxon p": text("Wilcoxon p", width=88),
            "p (Holm)": text("p (Holm)", width=76, help="Wilcoxon p, Holm-adjusted across the three metrics"),
            "Effect size (rank-biserial)": text("Effect size", width=84, help="Rank-biserial correlation, −1 to +1"),
            "W / T / L": text("W / T / L", width=80, help="Ideas where few-shot won / tied / lost"),
            "Pairs": st.column_config.NumberColumn("Pairs", width=60),
        },
    )
    st.caption("Zero-shot and few-shot: mean (median) over the ideas. "
               "Differences are few-shot minus zero-shot, per idea (repeats averaged). The interval is a seeded "
               "95% bootstrap; p is the Wilcoxon signed-rank test, Holm-adjusted across the three metrics. For "
               "latency lower is better, so a negative difference and a few-shot win mean few-shot was faster.")


def charts(view: dict[str, Any]) -> None:
    """Paired lines and the distribution of differences, for the chosen metric."""
    items = pd.DataFrame.from_records(view["items"])
    if items.empty:
        return
    metric = st.segmented_control(
        "Metric", list(data.METRIC_NAMES), format_func=data.METRIC_NAMES.get, key="compare_metric",
        default="quality", required=True,
    ) or "quality"
    stats = view["summary"]["metrics"].get(metric, {})
    left, right = st.columns(2)
    left.altair_chart(compare_charts.paired_chart(items, metric), width="stretch", key="compare_paired_chart")
    right.altair_chart(
        compare_charts.differences_chart(items, metric, mean=stats.get("mean_difference"),
                                         ci_low=stats.get("ci_low"), ci_high=stats.get("ci_high")),
        width="stretch", key="compare_differences_chart",
    )


def _field(record: dict[str, Any] | None, name: str, error: str | None) -> None:
    if record is None:
        st.caption(f":red[no result: {error}]")
        return
    value = record.get(name)
    if name == "guardrails":  # the model's text as written (escaped: "$5" is not LaTeX)
        st.markdown("\n".join(f"- {plain_md(g)}" for g in value) if value else "*none*")
    elif name == "improved_prompt":
        st.code(value, language=None, wrap_lines=True)
    else:
        st.markdown(plain_md(value) if value else "*empty*")


def drill_down(view: dict[str, Any]) -> None:
    """Both backends' outputs for one idea, field by field, side by side."""
    rows = view["rows"]
    if not rows:
        return
    ideas = sorted({row["item"]: row["idea"] for row in rows}.items())
    item = st.selectbox("Idea", [number for number, _ in ideas], key="compare_item",
                        format_func=lambda n: f"#{n} — {dict(ideas)[n][:100]}")
    repeats = sorted(row["repeat"] for row in rows if row["item"] == item)
    repeat = st.selectbox("Repeat", repeats, key="compare_repeat") if len(repeats) > 1 else repeats[0]
    row = next(r for r in rows if r["item"] == item and r["repeat"] == repeat)
    if row["context"]:
        st.caption(f"Context: {plain_md(row['context'])}")
    zero, few = row["zero_shot_record"], row["few_shot_record"]
    judged = judge_caption(row)
    if judged:
        st.caption(judged)
    head = st.columns(2)
    for column, label, record in ((head[0], "Zero-shot", zero), (head[1], "Few-shot", few)):
        if record is None:
            column.markdown(f"#### {label}")
        else:
            column.markdown(f"#### {label}")
            column.caption(f"quality {_number(record['quality'], 2)} · confidence {_number(record['confidence'], 2)} · "
                           f"{_number(record['latency_ms'], 0)} ms · program `{record['program_version'] or '–'}`")
    for name, label in DRILL_FIELDS:
        st.markdown(f"**{label}**")
        left, right = st.columns(2)
        with left:
            _field(zero, name, row["zero_shot_error"])
        with right:
            _field(few, name, row["few_shot_error"])


def downloads(view: dict[str, Any]) -> None:
    """CSV downloads of the per-item results and of the summary."""
    experiment_id = view["summary"]["experiment_id"]
    left, right = st.columns(2)
    left.download_button("Per-item results (CSV)", data.rows_csv(view["rows"]), f"compare-{experiment_id}-items.csv",
                         "text/csv", key="compare_download_items", icon=":material/download:")
    right.download_button("Summary (CSV)", data.summary_csv(view["summary"]), f"compare-{experiment_id}-summary.csv",
                          "text/csv", key="compare_download_summary", icon=":material/download:")


def history_comparison(context: AppContext, start: Any, end: Any, label: str) -> None:
    """The unpaired comparison of the history's zero-shot and few-shot records in a date range."""
    try:
        results = data.unpaired_view(str(context.db_path), context.version, start, end)
    except RepositoryError as error:  # the analytics worker (DuckDB, its own process) could not answer
        st.error(f"**The history cannot be analysed right now.** {error}", icon=":material/error:")
        return
    if all(r["problem"] for r in results):
        st.info(f"**Nothing to compare** for {label}: the range needs records from both backends. "
                "Widen the range, or run an experiment for a fair paired comparison.", icon=":material/search_off:")
        return
    table = []
    for r in results:
        name = data.METRIC_NAMES[r["metric"]]
        if r["problem"]:
            table.append({"Metric": name, "Records (zero / few)": f"{r['n_zero_shot']} / {r['n_few_shot']}",
                          "Difference of means [95% CI]": r["problem"]})
            continue
        digits = 0 if r["metric"] == "latency_ms" else 3
        share = ("≤" if r["metric"] == "latency_ms" else "≥") + f" {r['threshold']:g}"
        table.append({
            "Metric": name,
            "Records (zero / few)": f"{r['n_zero_shot']:,} / {r['n_few_shot']:,}",
            "Zero-shot mean": _number(r["mean_zero_shot"], digits),
            "Few-shot mean": _number(r["mean_few_shot"], digits),
            "Difference of means [95% CI]": f"{_number(r['mean_difference'], digits, True)} "
                                            f"[{_number(r['ci_low'], digits, True)}, {_number(r['ci_high'], digits, True)}]",
            "Difference of p95 [95% CI]": f"{_number(r['p95_difference'], digits, True)} "
                                          f"[{_number(r['p95_ci_low'], digits, True)}, {_number(r['p95_ci_high'], digits, True)}]",
            "Mann-Whitney p": _p_text(r["p_value"]),
            "Good if": share,
            "Share good: zero-shot": f"{_number(r['share_zero_shot'], 2)} [{_number(r['share_zero_shot_low'], 2)}, "
                                         f"{_number(r['share_zero_shot_high'], 2)}]",
            "Share good: few-shot": f"{_number(r['share_few_shot'], 2)} [{_number(r['share_few_shot_low'], 2)}, "
                                        f"{_number(r['share_few_shot_high'], 2)}]",
        })
    frame = pd.DataFrame(table)
    text = st.column_config.TextColumn
    # Two tables that each fit the page, rather than one ten columns wide that scrolls sideways.
    st.markdown("**Averages**")
    averages = [c for c in ("Metric", "Records (zero / few)", "Zero-shot mean", "Few-shot mean",
                            "Difference of means [95% CI]", "Mann-Whitney p") if c in frame]
    st.dataframe(frame[averages], hide_index=True, width="stretch", key="compare_history_table", column_config={
        "Metric": text("Metric", width=110), "Records (zero / few)": text("Records (zero / few)", width=150),
        "Zero-shot mean": text("Zero-shot mean", width=120), "Few-shot mean": text("Few-shot mean", width=120),
        "Difference of means [95% CI]": text("Difference of means [95% CI]", width=230,
                                             help="Few-shot minus zero-shot; 95% bootstrap interval"),
        "Mann-Whitney p": text("Mann-Whitney p", width=130),
    })
    tails = [c for c in ("Metric", "Difference of p95 [95% CI]", "Good if", "Share good: zero-shot",
                         "Share good: few-shot") if c in frame]
    if len(tails) > 1:
        st.markdown("**Tails and shares of good results**")
        st.dataframe(frame[tails], hide_index=True, width="stretch", key="compare_history_tails", column_config={
            "Metric": text("Metric", width=110),
            "Difference of p95 [95% CI]": text("Difference of p95 [95% CI]", width=230,
                                               help="Few-shot minus zero-shot 95th percentile; 95% bootstrap interval"),
            "Good if": text("Good if", width=90),
            "Share good: zero-shot": text("Share good: zero-shot", width=200, help="With a 95% Wilson interval"),
            "Share good: few-shot": text("Share good: few-shot", width=200, help="With a 95% Wilson interval"),
        })
    st.caption(
        "Unpaired: each record's idea went through one backend only, so the groups differ in their ideas too. "
        "Intervals are 95% bootstraps of each group resampled on its own; shares have Wilson intervals. "
        "A paired experiment (the Experiments tab) answers the question more fairly with fewer calls."
    )
