"""The Compare page's read side: experiments and their statistics as plain data, cached briefly.

Experiments are read through sqlite3 (`SQLiteExperimentRepository`, one connection per call). The
unpaired History comparison reads its samples from the analytics worker, which runs DuckDB in its own
process: this process opens the database with sqlite3 and must never attach it through DuckDB.
Results are `st.cache_data(ttl=30)` keyed by the database, the data version (bumped when this app
writes) and the arguments, and are plain dicts/lists so they pickle.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import composition
from store.analytics.csv_cells import neutralised_frame

TTL_S = 30
STAT_COLUMNS = {
    "mean_zero_shot": "Zero-shot mean", "mean_few_shot": "Few-shot mean",
    "median_zero_shot": "Zero-shot median", "median_few_shot": "Few-shot median",
    "mean_difference": "Difference (few − zero)", "ci_low": "95% CI low", "ci_high": "95% CI high",
    "p_value": "Wilcoxon p", "p_value_adjusted": "p (Holm)", "effect_size": "Effect size (rank-biserial)",
    "wins": "Few-shot wins", "ties": "Ties", "losses": "Few-shot losses", "n_pairs": "Pairs",
}
METRIC_NAMES = {"quality": "Quality", "confidence": "Confidence", "latency_ms": "Latency (ms)"}
# "Good" records for the share comparison in the History tab, per metric (latency: at most 5 s).
SHARE_THRESHOLDS = {"quality": 0.8, "confidence": 0.8, "latency_ms": 5_000.0}


def _experiments(db_path: str) -> Any:
    # The busy timeout the cached functions below take is the settings' (part of their cache key only).
    from dashboard import composition

    return composition.experiments(db_path)


@st.cache_data(ttl=TTL_S, show_spinner=False, max_entries=64)
def experiment_list(db_path: str, busy_timeout_ms: int, version: int) -> list[dict[str, Any]]:
    """The experiments, newest first, as dicts (`id`, `name`, `created`, `status`, counts, `items`)."""
    return [
        {"id": e.id, "name": e.name, "created": e.created, "status": e.status, "planned": e.planned,
         "succeeded": e.succeeded, "failed": e.failed, "items": len(e.items), "repeats": e.repeats,
         "model_version": e.model_version}
        for e in _experiments(db_path).list_experiments(limit=500)
    ]


@st.cache_data(ttl=TTL_S, show_spinner="Computing the paired statistics…", max_entries=32)
def experiment_view(db_path: str, busy_timeout_ms: int, experiment_id: str, version: int,
                    judge_model: str | None = None) -> dict[str, Any]:
    """`summary` (the `--json` dict, with the judge's object for `judge_model`), `rows` (per item and repeat,
    with both records and the judge's columns) and `items` (per idea)."""
    from pipeline.experiment_results import item_summaries, summarize

    summary = summarize(_experiments(db_path), experiment_id, judge_model=judge_model)
    rows = []
    for row, flat in zip(summary.rows, summary.flat_rows()):
        flat["zero_shot_record"] = row.zero_shot.to_dict() if row.zero_shot else None
        flat["few_shot_record"] = row.few_shot.to_dict() if row.few_shot else None
        rows.append(flat)
    return {"summary": summary.to_dict(), "rows": rows, "items": item_summaries(summary.rows)}


def summary_table(summary: dict[str, Any]) -> pd.DataFrame:
    """One row per metric with readable column names (for the page and the summary CSV)."""
    records = []
    for metric, name in METRIC_NAMES.items():
        stats = summary["metrics"].get(metric, {})
        records.append({"Metric": name} | {label: stats.get(key) for key, label in STAT_COLUMNS.items()})
    return pd.DataFrame.from_records(records)


def summary_csv(summary: dict[str, Any]) -> bytes:
    """The summary table with the experiment's facts, verdict and (when judged) the judge's numbers on every row."""
    table = summary_table(summary)
    for key in ("experiment_id", "name", "status", "model_version", "program_version_zero_shot",
                "program_version_few_shot", "eval_set_hash", "items", "repeats", "planned", "succeeded", "failed",
                "verdict", "warning"):
        table[key] = summary.get(key)
    judge = summary.get("judge")
    if judge is not None:
        for key in JUDGE_CSV_KEYS:
            table[f"judge_{key}"] = judge[key]
    return neutralised_frame(table).to_csv(index=False).encode("utf-8")


JUDGE_CSV_KEYS = (
    "model", "pairs", "judged_pairs", "few_shot_wins", "ties", "zero_shot_wins", "win_rate", "win_rate_low",
    "win_rate_high", "consistent_pairs", "consistency", "agreeing_items", "rubric_items", "agreement",
    "unparsed_pairs", "unparsed_answers", "pending_pairs", "failed_calls",
)


def rubric_and_judge(summary: dict[str, Any]) -> pd.DataFrame:
    """The rubric's quality wins next to the judge's, per idea: few-shot wins, ties, zero-shot wins, and the
    few-shot win rate (ties left out) with its 95% Wilson interval. One row per source; no judge row without one."""
    from pipeline.statistics import wilson_interval

    quality = summary["metrics"].get("quality", {})
    sources = [("Rubric (quality score)", quality.get("wins") or 0, quality.get("ties") or 0,
                quality.get("losses") or 0)]
    judge = summary.get("judge")
    if judge is not None:
        sources.append((f"Judge ({judge['model']})", judge["few_shot_wins"], judge["ties"], judge["zero_shot_wins"]))
    records = []
    for name, wins, ties, losses in sources:
        decided = wins + losses
        low, high = wilson_interval(wins, decided) if decided else (None, None)
        records.append({"Source": name, "Few-shot wins": wins, "Ties": ties, "Zero-shot wins": losses,
                        "Win rate": wins / decided if decided else None, "95% CI low": low, "95% CI high": high})
    return pd.DataFrame.from_records(records)


def rows_csv(rows: list[dict[str, Any]]) -> bytes:
    """Per item and repeat: the idea, each metric for both backends and the difference, any errors."""
    flat = [{k: v for k, v in row.items() if not k.endswith("_record")} for row in rows]
    return neutralised_frame(pd.DataFrame.from_records(flat)).to_csv(index=False).encode("utf-8")


@st.cache_data(ttl=TTL_S, show_spinner="Comparing the history…", max_entries=64)
def unpaired_view(db_path: str, version: int, start: date | None, end: date | None) -> list[dict[str, Any]]:
    """Per metric: the unpaired comparison of the range's zero-shot and few-shot records, or why there is none."""
    from pipeline.statistics import InsufficientData, compare_unpaired

    worker = composition.analytics_worker(db_path)
    results = []
    for metric in METRIC_NAMES:
        samples = worker.unpaired_samples(start, end, metric)
        zero, few = samples.get("zero-shot", []), samples.get("few-shot", [])
        try:
            summary = compare_unpaired(zero, few, metric=metric, higher_is_better=metric != "latency_ms",
                                       threshold=SHARE_THRESHOLDS[metric])
            results.append({"metric": metric, "problem": None} | summary.to_dict())
        except InsufficientData as error:
            results.append({"metric": metric, "problem": str(error), "n_zero_shot": len(zero),
                            "n_few_shot": len(few)})
    return results
