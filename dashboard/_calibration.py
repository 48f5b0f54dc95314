"""Analytics: the calibration section (confidence against quality). Thin: the worker computes, charts.py draws."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import _queries as queries
from dashboard import charts, filters
from dashboard._context import AppContext


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
