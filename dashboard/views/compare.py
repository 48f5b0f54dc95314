"""Compare: is few-shot better than zero-shot for this model, and by how much — with intervals, not just averages."""

from __future__ import annotations

from datetime import datetime, timezone

import streamlit as st

from dashboard import _compare_data as data
from dashboard import _compare_judge as judge
from dashboard import _compare_run as run
from dashboard import _compare_views as views
from dashboard import _metric_versions, _ui, filters
from dashboard._context import AppContext, app_context

TABS = ["Experiments", "History (unpaired)"]
ANALYTICS_PARAMS_KEY = "analytics_last_params"  # the Analytics page's last filter, the History tab's default


def _empty_state() -> None:
    st.info(
        "**No experiments yet.** An experiment runs every idea of an evaluation set through both zero-shot and "
        "few-shot, so each idea gives a fair pair; the verdict then says whether few-shot is better, by how much, "
        "and how sure we can be. Start one above, or from a terminal: `prompt-improver compare`.",
        icon=":material/science:",
    )


def _experiments(context: AppContext) -> None:
    listed = data.experiment_list(str(context.db_path), context.settings.sqlite_busy_timeout_ms, context.version)
    with st.expander("New experiment", expanded=not listed, icon=":material/add_circle:"):
        run.new_experiment_panel(context)
    notice = st.session_state.pop(run.NOTICE_KEY, None)
    if notice:  # what the last start or resume did (kept across the rerun that follows a resume)
        getattr(st, notice[0])(notice[1])
    listed = data.experiment_list(str(context.db_path), context.settings.sqlite_busy_timeout_ms, context.version)
    if not listed:
        _empty_state()
        return
    by_id = {entry["id"]: entry for entry in listed}
    if st.session_state.get(run.SELECTED_KEY) not in by_id:
        st.session_state[run.SELECTED_KEY] = listed[0]["id"]
    chosen = st.selectbox("Experiment", list(by_id), key=run.SELECTED_KEY,
                          format_func=lambda ident: views.experiment_label(by_id[ident]))
    entry = by_id[chosen]
    if entry["status"] != "completed" and context.user_settings.llm_model:
        missing = entry["planned"] - entry["succeeded"]
        if st.button(f"Resume: run the {missing:,} missing or failed run(s)", key="compare_resume",
                     icon=":material/replay:"):
            run.run_with_progress(context, experiment_id=chosen,
                                  concurrency=int(st.session_state.get("compare_concurrency",
                                                                       context.user_settings.llm_concurrency)))
            st.rerun()
    view = data.experiment_view(str(context.db_path), context.settings.sqlite_busy_timeout_ms, chosen, context.version,
                                context.user_settings.judge_model)
    summary = view["summary"]
    views.verdict(summary)
    _metric_versions.records_note(
        record for row in view["rows"] for record in (row["zero_shot_record"], row["few_shot_record"])
    )
    views.summary_table(summary)
    judge.section(context, view, int(st.session_state.get("compare_concurrency", context.user_settings.llm_concurrency)))
    views.facts(summary)
    views.failed_runs(view["rows"])
    st.subheader("Idea by idea")
    views.charts(view)
    st.subheader("Drill-down: both outputs side by side")
    views.drill_down(view)
    views.downloads(view)


def _history(context: AppContext) -> None:
    today = datetime.now(timezone.utc).date()
    if "compare_history_range" not in st.session_state:
        seeded = filters.from_query_params(st.session_state.get(ANALYTICS_PARAMS_KEY, {}), today)
        st.session_state["compare_history_range"] = seeded.preset if seeded.preset != "custom" else "30d"
    preset = st.segmented_control(
        "Date range (UTC)", [p for p in filters.PRESETS if p != "custom"], format_func=filters.PRESETS.get,
        key="compare_history_range", required=True,
    ) or filters.DEFAULT_PRESET
    view = filters.preset_filter(preset, today, None, None)
    _metric_versions.range_note(context, view.start, view.end)
    views.history_comparison(context, view.start, view.end, view.describe())


def main() -> None:
    context = app_context()
    st.title("Compare zero-shot and few-shot")
    st.caption("Paired experiments with confidence intervals and tests, and an unpaired look at your history.")
    if context.repo is None:
        _ui.database_problem(context)
        return
    experiments_tab, history_tab = st.tabs(TABS, key="compare_tab", on_change="rerun")
    if experiments_tab.open:
        with experiments_tab:
            _experiments(context)
    if history_tab.open:
        with history_tab:
            _history(context)


main()
