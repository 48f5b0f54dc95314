"""Analytics: the calibration section (confidence against quality) and the note that says when quality
scores of different metric versions are mixed in a view. Thin: the worker computes, charts.py draws."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import streamlit as st

from dashboard import _queries as queries
from dashboard import charts, filters
from dashboard._context import AppContext

RESCORE_HINT = "run `prompt-improver rescore` to score every record with the current metric"


def metric_version_note(counts: Mapping[int | None, int], current: int) -> str | None:
    """The warning for a view whose quality scores come from several metric versions, or only from an older
    one; None when they are all current (or carry no version at all, as demo data does).

    Args:
        counts: scored records per metric version (None: stored before versions were kept).
        current: the metric version this code scores with (`pipeline.quality.METRIC_VERSION`).
    """
    versions = {version: count for version, count in counts.items() if count}
    if not versions or set(versions) in ({current}, {None}):
        return None
    parts = [
        f"{count:,} by " + ("the current metric (v{})".format(version) if version == current
                            else "no recorded version" if version is None else f"metric v{version}")
        for version, count in sorted(versions.items(), key=lambda item: (item[0] is None, -(item[0] or 0)))
    ]
    if len(versions) == 1:
        return f"**Quality here is from an older metric:** {parts[0]} scored, not the current v{current}; {RESCORE_HINT}."
    return (f"**Quality scores of {len(versions)} metric versions are mixed here** ({', '.join(parts)}): averages, "
            f"charts and comparisons of quality combine scales that differ; {RESCORE_HINT}.")


def version_note(context: AppContext, view: filters.ViewFilter) -> None:
    """Warn above the charts when the view mixes quality metric versions."""
    from pipeline.quality import METRIC_VERSION

    result = queries.calibration(str(context.db_path), context.version, view.start, view.end, view.backend, view.model)
    note = metric_version_note(result["metric_versions"], METRIC_VERSION)
    if note:
        st.warning(note, icon=":material/rule:")


def section(context: AppContext, view: filters.ViewFilter) -> None:
    """The reliability curve with counts per bin and the ECE per backend."""
    result = queries.calibration(str(context.db_path), context.version, view.start, view.end, view.backend, view.model)
    st.subheader("Calibration")
    st.caption(
        "Does a backend's self-reported confidence predict the quality it gets? Records are binned by "
        "confidence (0.1 wide); a point on the dashed diagonal is calibrated, below it over-confident. "
        "ECE is the count-weighted average gap between confidence and quality (0 = calibrated)."
    )
    left, right = st.columns([2, 1])
    left.altair_chart(charts.calibration_chart(result["bins"], result["ece"]), width="stretch")
    table = pd.DataFrame({
        "Backend": list(result["ece"]),
        "Scored records": [result["counts"].get(name, 0) for name in result["ece"]],
        "ECE": list(result["ece"].values()),
    })
    right.dataframe(
        table, hide_index=True, width="stretch", key="analytics_calibration_ece",
        column_config={"ECE": st.column_config.NumberColumn(format="%.3f"),
                       "Scored records": st.column_config.NumberColumn(format="localized")},
    )
