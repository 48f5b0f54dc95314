"""Analytics: KPIs with deltas and charts for a date range, bookmarkable through the URL's query parameters."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pandas as pd
import streamlit as st

from dashboard import _queries as queries
from dashboard import _calibration, _download, _metric_versions, _ui, charts, filters
from dashboard._context import DEMO_PARAM, AppContext, app_context, with_demo_param
from dashboard._kpis import sparklines, tiles
from store.analytics.errors import AnalyticsQueryError
from store.errors import RepositoryError

ALL = "all"
PRESET_LABELS = {"7d": "7 days", "30d": "30 days", "90d": "90 days", "365d": "365 days", "all": "All time", "custom": "Custom"}
LAST_PARAMS_KEY = "analytics_last_params"


def _today() -> date:
    return datetime.now(timezone.utc).date()


def _seed_widgets(today: date) -> None:
    """On the first run of this page in a session, set the filter widgets from the URL (or the last view)."""
    if "analytics_range" in st.session_state:
        return
    own = {key: value for key, value in st.query_params.to_dict().items() if key != DEMO_PARAM}
    params = own or st.session_state.get(LAST_PARAMS_KEY, {})
    view = filters.from_query_params(params, today)
    st.session_state["analytics_range"] = view.preset
    st.session_state["analytics_backend"] = view.backend or ALL
    st.session_state["analytics_model"] = view.model or ALL
    st.session_state["analytics_experiments"] = view.include_experiments
    if view.preset == "custom":
        st.session_state["analytics_dates"] = (view.start, view.end)


def _filter_bar(context: AppContext, today: date) -> filters.ViewFilter:
    _seed_widgets(today)
    models = queries.models(str(context.db_path), context.version)
    chosen_model = st.session_state.get("analytics_model", ALL)
    model_options = [ALL] + models + ([chosen_model] if chosen_model not in models and chosen_model != ALL else [])

    # A wrapping row, not fixed columns: the six range buttons keep their natural width (no clipped
    # "Custom", no sideways scroll) and the selects move to the next line on a narrow window.
    with st.container(horizontal=True, vertical_alignment="bottom", gap="medium", key="analytics_filter_bar"):
        preset = st.segmented_control(
            "Date range (UTC)",
            list(filters.PRESETS),
            format_func=PRESET_LABELS.get,
            key="analytics_range",
            required=True,
            help=filters.DAYS_MEANING,
        ) or filters.DEFAULT_PRESET
        backend = st.selectbox(
            "Backend", [ALL, "zero-shot", "few-shot"], key="analytics_backend", width=170,
            format_func=lambda value: "All backends" if value == ALL else value,
        )
        model = st.selectbox(
            "Model", model_options, key="analytics_model", width=240,
            format_func=lambda value: "All models" if value == ALL else value,
        )
        experiments = st.toggle(filters.EXPERIMENTS_LABEL, key="analytics_experiments", help=filters.EXPERIMENTS_HELP)
    backend_value = None if backend == ALL else backend
    model_value = None if model == ALL else model
    if preset == "custom":
        if "analytics_dates" not in st.session_state:
            st.session_state["analytics_dates"] = (today - timedelta(days=29), today)
        picked = st.date_input("Custom range (UTC, both days included)", key="analytics_dates", format="YYYY-MM-DD")
        picked = tuple(picked) if isinstance(picked, (tuple, list)) else (picked,)
        if len(picked) == 0:
            picked = (today - timedelta(days=29), today)
        start, end = (picked[0], picked[0]) if len(picked) == 1 else (picked[0], picked[1])
        view = filters.custom_filter(start, end, backend_value, model_value, experiments)
    else:
        view = filters.preset_filter(preset, today, backend_value, model_value, experiments)

    params = filters.to_query_params(view)
    if st.query_params.to_dict() != with_demo_param(params):  # the URL keeps demo mode too
        st.query_params.from_dict(with_demo_param(params))
    st.session_state[LAST_PARAMS_KEY] = params
    return view


def _period_label(view: filters.ViewFilter) -> str:
    previous = view.previous()
    if previous is None:
        return "the previous period"
    return f"the previous {view.days:,} days ({previous[0].isoformat()} – {previous[1].isoformat()})"


def _bucket_of(series: pd.DataFrame) -> str:
    moments = pd.to_datetime(series["bucket"]).drop_duplicates().sort_values()
    if len(moments) < 2:
        return "day"
    step = moments.diff().dropna().min()
    if step <= pd.Timedelta(hours=1):
        return "hour"
    if step >= pd.Timedelta(days=7):
        return "week"
    return "day"


def _kpi_row(kpis: dict, view: filters.ViewFilter, series: pd.DataFrame) -> None:
    lines = sparklines(series)
    for column, tile in zip(st.columns(5), tiles(kpis, _period_label(view))):
        column.metric(
            tile.label, tile.value, tile.delta, delta_color=tile.delta_color, delta_arrow=tile.delta_arrow,
            help=tile.help, border=True,
            height="stretch", chart_data=lines.get(tile.metric) or None,
            chart_type="bar" if tile.metric == "count" else "area",
        )


def _by_backend(kpis: dict) -> None:
    rows = []
    for name, metrics in (kpis.get("by_backend") or {}).items():
        rows.append({
            "Backend": name,
            "Improvements": int(metrics.get("count") or 0),
            "Avg confidence": metrics.get("avg_confidence"),
            "Avg quality": metrics.get("avg_quality"),
            "p50 latency (s)": None if metrics.get("p50_latency_ms") is None else metrics["p50_latency_ms"] / 1000,
            "p95 latency (s)": None if metrics.get("p95_latency_ms") is None else metrics["p95_latency_ms"] / 1000,
        })
    if not rows:
        return
    with st.expander("KPIs by backend", expanded=False):
        st.dataframe(
            pd.DataFrame(rows), hide_index=True, width="stretch", key="analytics_by_backend",
            column_config={
                "Improvements": st.column_config.NumberColumn(format="localized"),
                "Avg confidence": st.column_config.NumberColumn(format="%.3f"),
                "Avg quality": st.column_config.NumberColumn(format="%.3f"),
                "p50 latency (s)": st.column_config.NumberColumn(format="%.2f"),
                "p95 latency (s)": st.column_config.NumberColumn(format="%.2f"),
            },
        )


def _empty_state(context: AppContext, view: filters.ViewFilter, total: int) -> None:
    if total == 0:
        if context.demo:
            st.info("The demo database is empty.", icon=":material/info:")
        else:
            _ui.demo_offer(context, key="analytics_demo")
        return
    st.info(
        f"**No improvements match** {view.describe()}. Try a longer range such as *All time*, or another "
        f"backend or model{'' if view.include_experiments else ', or include experiment runs'} — the history "
        f"holds {total:,} record(s) in all.",
        icon=":material/search_off:",
    )


def _downloads(context: AppContext, view: filters.ViewFilter, count: int) -> None:
    db = str(context.db_path)
    stamp = "all-time" if view.start is None else f"{view.start.isoformat()}_{view.end.isoformat()}"
    with st.container(horizontal=True, key="analytics_downloads"):
        st.download_button(
            "Summary report (CSV)", lambda: queries.summary_csv(db, view.start, view.end, view.backend, view.model,
                                                                view.include_experiments),
            file_name=f"prompt-summary_{stamp}.csv", mime="text/csv", key="analytics_download_summary",
            icon=":material/summarize:", on_click="ignore",
        )
        _download.records_download(
            db, view, count, key="analytics_download_records", file_name=f"prompt-records_{stamp}.csv",
            what="raw records (CSV)",
        )


def _backend_counts(kpis: dict) -> pd.DataFrame:
    # The KPIs already hold the count per backend: no second query for the backend mix.
    counts = {name: int(metrics.get("count") or 0) for name, metrics in (kpis.get("by_backend") or {}).items()}
    return pd.DataFrame({"backend": list(counts), "count": list(counts.values())})


def _charts(context: AppContext, view: filters.ViewFilter, kpis: dict, series: pd.DataFrame) -> None:
    db, version = str(context.db_path), context.version
    args = (db, version, view.start, view.end, view.backend, view.model, view.include_experiments)
    bucket = _bucket_of(series)
    left, right = st.columns([2, 1])
    left.altair_chart(charts.volume_chart(series, bucket), width="stretch")
    right.altair_chart(charts.backend_share_chart(_backend_counts(kpis)), width="stretch")
    left, right = st.columns(2)
    left.altair_chart(charts.score_chart(series, bucket, "avg_confidence"), width="stretch")
    right.altair_chart(charts.score_chart(series, bucket, "avg_quality"), width="stretch")

    hist = queries.histograms(*args)
    left, right = st.columns(2)
    left.altair_chart(charts.latency_chart(series, bucket), width="stretch")
    latency = hist["latency_ms"]
    unit, divisor = charts.latency_unit(latency["bin_end"]) if len(latency) else ("ms", 1.0)
    scaled = latency.assign(bin_start=latency["bin_start"] / divisor, bin_end=latency["bin_end"] / divisor)
    log_scale = bool(len(latency) and latency["log_scale"].any())
    right.altair_chart(charts.histogram_chart(scaled, metric="Latency", unit=unit, log_scale=log_scale), width="stretch")
    left, right = st.columns(2)
    left.altair_chart(charts.histogram_chart(hist["confidence"], metric="Confidence"), width="stretch")
    right.altair_chart(charts.histogram_chart(hist["quality"], metric="Quality"), width="stretch")

    frameworks, roles = queries.top(*args)
    left, right = st.columns(2)
    if len(frameworks):
        left.altair_chart(charts.top_chart(frameworks, title="Top frameworks", label="Framework"), width="stretch")
    if len(roles):
        right.altair_chart(charts.top_chart(roles, title="Top roles", label="Role"), width="stretch")


def main() -> None:
    context = app_context()
    st.title("Analytics")
    st.caption("Volume, scores and latency of your improvements over time, against the previous period.")
    if context.repo_error:
        _ui.database_problem(context)
        return
    today = _today()
    try:
        view = _filter_bar(context, today)
        db, version = str(context.db_path), context.version
        kpis = queries.kpis(db, version, view.start, view.end, view.backend, view.model, view.include_experiments)
        st.caption(f"{view.describe()} · times in UTC")
        if not kpis.get("count"):
            overall = queries.kpis(db, version, None, None, None, None, True)
            _empty_state(context, view, int(overall.get("count") or 0))
            return
        series = queries.timeseries(
            db, version, view.start, view.end, view.backend, view.model, view.include_experiments
        )
        _kpi_row(kpis, view, series)
        _metric_versions.range_note(context, view.start, view.end, view.backend, view.model)
        _by_backend(kpis)
        _downloads(context, view, int(kpis["count"]))
        _charts(context, view, kpis, series)
        _calibration.section(context, view)
    except (RepositoryError, AnalyticsQueryError) as error:
        st.error(f"**The analytics could not be computed.** {error}", icon=":material/error:")


main()
