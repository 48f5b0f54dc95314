"""History: every improvement, filtered and paginated on the server side, newest first, with a detail view."""

from __future__ import annotations

import hashlib
import math
from datetime import date, datetime, timedelta, timezone

import pandas as pd
import streamlit as st

from dashboard import _queries as queries
from dashboard import _download, _search_view, _ui, composition, filters
from dashboard._context import AppContext, app_context
from store.analytics.errors import AnalyticsQueryError
from store.errors import RepositoryError

ALL = "all"
PAGE_SIZES = [25, 50, 100]
RANGE_LABELS = {"7d": "Last 7 days", "30d": "Last 30 days", "90d": "Last 90 days", "365d": "Last 365 days",
                "all": "All time", "custom": "Custom range"}
# The table shows what tells records apart at a glance and fits a laptop screen without sideways scrolling;
# the model, the improved prompt and every other field are in the detail view of the selected row.
TABLE_COLUMNS = ["id", "timestamp", "backend", "original_idea", "framework", "confidence", "quality", "latency_ms"]
TABLE_ROW_PX = 35  # the grid's row height, for a table as tall as its rows (up to TABLE_MAX_ROWS)
TABLE_MAX_ROWS = 15
TABLE_KEY = "history_table_key"  # session state: the key of the table on screen (one per view, see _table_key)
IDEA_WIDTH_PX = 260  # with the fixed columns: about 930 px, the main area at 1400 px with the sidebar open


def _today() -> date:
    return datetime.now(timezone.utc).date()


def _reset_page() -> None:
    st.session_state["history_page"] = 1


def _filters(context: AppContext) -> tuple[filters.ViewFilter, float | None, str | None]:
    today = _today()
    models = queries.models(str(context.db_path), context.version)
    with st.container(border=True):
        cols = st.columns([2, 2, 2, 2, 3], vertical_alignment="bottom")
        preset = cols[0].selectbox("Date range (UTC)", list(RANGE_LABELS), index=4, format_func=RANGE_LABELS.get,
                                   key="history_range", on_change=_reset_page, help=filters.DAYS_MEANING)
        backend = cols[1].selectbox("Backend", [ALL, "zero-shot", "few-shot"], key="history_backend",
                                    format_func=lambda v: "All backends" if v == ALL else v, on_change=_reset_page)
        model = cols[2].selectbox("Model", [ALL] + models, key="history_model",
                                  format_func=lambda v: "All models" if v == ALL else v, on_change=_reset_page)
        min_confidence = cols[3].slider("Min confidence", 0.0, 1.0, 0.0, 0.05, key="history_min_confidence",
                                        on_change=_reset_page)
        text = cols[4].text_input("Search", key="history_text", placeholder='e.g. newsletter "tone of voice" -draft',
                                  on_change=_reset_page, help=_search_view.SEARCH_HELP)
        experiments = st.toggle(filters.EXPERIMENTS_LABEL, key="history_experiments", help=filters.EXPERIMENTS_HELP,
                                on_change=_reset_page)
        backend_value = None if backend == ALL else backend
        model_value = None if model == ALL else model
        if preset == "custom":
            picked = st.date_input("Dates (UTC, both days included)", value=(today - timedelta(days=29), today),
                                   key="history_dates", format="YYYY-MM-DD", on_change=_reset_page)
            picked = tuple(picked) if isinstance(picked, (tuple, list)) else (picked,)
            start = picked[0] if picked else today
            end = picked[1] if len(picked) > 1 else start
            view = filters.custom_filter(start, end, backend_value, model_value, experiments)
        else:
            view = filters.preset_filter(preset, today, backend_value, model_value, experiments)
    return view, (min_confidence or None), (text.strip() or None)


def _table_key(*view) -> str:
    """The table's widget key for this page of this filtered set.

    A grid's selection is a row *position*: kept across a page or filter change it would select whatever
    record now sits in that row, and the detail view would show a record the user never picked. A key per
    view starts every view with no selection. The key is kept in session state for tests to select a row.
    """
    key = "history_table_" + hashlib.sha1(repr(view).encode()).hexdigest()[:12]
    st.session_state[TABLE_KEY] = key
    return key


def _table(frame: pd.DataFrame, key: str) -> list[int]:
    shown = frame[[name for name in TABLE_COLUMNS if name in frame.columns]].copy()
    if "timestamp" in shown:
        shown["timestamp"] = pd.to_datetime(shown["timestamp"], utc=True, format="ISO8601")
    if "latency_ms" in shown:
        shown["latency_ms"] = shown["latency_ms"] / 1000.0
    event = st.dataframe(
        shown,
        key=key,
        on_select="rerun",
        selection_mode="single-row",
        hide_index=True,
        width="stretch",
        height=TABLE_ROW_PX * (min(len(shown), TABLE_MAX_ROWS) + 1) + 3,
        # Fixed widths for the short columns; the idea takes the rest and is cut with "…" (full text below).
        column_config={
            "id": st.column_config.NumberColumn("#", format="%d", width=60),
            "timestamp": st.column_config.DatetimeColumn("When (UTC)", format="YYYY-MM-DD HH:mm", timezone="UTC",
                                                         width=132),
            "backend": st.column_config.TextColumn("Backend", width=80),
            "original_idea": st.column_config.TextColumn("Idea", width=IDEA_WIDTH_PX, help="Select the row for the full text"),
            "framework": st.column_config.TextColumn("Framework", width=100),
            "confidence": st.column_config.ProgressColumn("Confidence", min_value=0.0, max_value=1.0, format="%.2f",
                                                          width=92),
            "quality": st.column_config.ProgressColumn("Quality", min_value=0.0, max_value=1.0, format="%.2f",
                                                       width=92),
            "latency_ms": st.column_config.NumberColumn("Latency (s)", format="%.2f", width=84),
        },
    )
    rows = list(event.selection.rows) if event is not None else []
    return [int(shown.iloc[row]["id"]) for row in rows if row < len(shown)]


def _pager(total: int, size: int, order: str = "newest first") -> None:
    pages = max(1, math.ceil(total / size))
    page = min(max(1, int(st.session_state.get("history_page", 1))), pages)
    st.session_state["history_page"] = page  # before the widget exists in this run: allowed
    left, middle, right = st.columns([2, 6, 2], vertical_alignment="center")
    left.number_input("Page", min_value=1, max_value=pages, step=1, key="history_page")
    first, last = (page - 1) * size + 1, min(page * size, total)
    middle.caption(f"Page {page:,} of {pages:,} · records {first:,}–{last:,} of {total:,}, {order}")
    right.selectbox("Rows per page", PAGE_SIZES, index=1, key="history_page_size", on_change=_reset_page)


def _search_order(context: AppContext, text: str | None) -> str:
    """With a search: the index's progress (and a button to finish it), and the order the user picks."""
    if not text:
        return "time"
    db = str(context.db_path)
    indexed = queries.search_indexed(db, context.version)
    if indexed is None:  # no full-text index (a history from before it): newest first only
        return "time"
    location = str(composition.history_location(db))  # PostgreSQL's URL when DATABASE_URL holds the history
    if _search_view.index_notice(indexed, location, context.settings.sqlite_busy_timeout_ms):
        queries.search_indexed.clear()
        queries.history_page.clear()
        st.rerun()  # the notice and the table from the complete index
    return st.radio("Order", list(_search_view.ORDER_LABELS), format_func=_search_view.ORDER_LABELS.get,
                    horizontal=True, key="history_order", on_change=_reset_page)


def _detail(context: AppContext, record_id: int, text: str | None = None) -> None:
    record = context.repo.get(record_id) if context.repo is not None else None
    if record is None:
        st.warning(f"Record #{record_id} is no longer in the history (pruned?).")
        return
    if text:
        _search_view.show_matches({
            "Original idea": record.original_idea, "Context": record.context,
            "Improved prompt": record.improved_prompt, "Role": record.role, "Directive": record.directive,
            "Guardrails": "\n".join(record.guardrails),
        }, text)
    with st.container(border=True, key="history_detail"):
        st.subheader(f"Record #{record.id}")
        st.caption(
            f"{record.timestamp.strftime('%Y-%m-%d %H:%M:%S')} UTC · {record.backend.value} · model "
            f"`{record.model_version or '–'}` · program `{record.program_version or '–'}` · uid `{record.uid}`"
        )
        metrics = st.columns(4)
        metrics[0].metric("Confidence", _ui.fmt_score(record.confidence))
        metrics[1].metric("Quality", _ui.fmt_score(record.quality))
        metrics[2].metric("Latency", _ui.fmt_latency(record.latency_ms))
        metrics[3].metric("Experiment", record.experiment_id or "–")
        left, right = st.columns(2)
        with left:
            st.markdown("**Original idea**")
            st.code(record.original_idea, language=None, wrap_lines=True)
            st.markdown("**Context**")
            st.code(record.context or "(none)", language=None, wrap_lines=True)
            st.markdown("**Role**")
            st.code(record.role or "–", language=None, wrap_lines=True)
            st.markdown("**Directive**")
            st.code(record.directive or "–", language=None, wrap_lines=True)
            st.markdown("**Framework**")
            st.code(record.framework or "–", language=None, wrap_lines=True)
            st.markdown("**Record**")  # the identifiers too, each copyable (the caption above is not)
            st.code(
                f"id: {record.id}\nuid: {record.uid}\ntimestamp: {record.timestamp.isoformat()}\n"
                f"backend: {record.backend.value}\nmodel: {record.model_version or '–'}\n"
                f"program: {record.program_version or '–'}\nexperiment: {record.experiment_id or '–'}\n"
                f"confidence: {_ui.fmt_score(record.confidence)}\nquality: {_ui.fmt_score(record.quality)}\n"
                f"quality metric: {'–' if record.metric_version is None else f'v{record.metric_version}'}\n"
                f"latency_ms: {'–' if record.latency_ms is None else f'{record.latency_ms:.0f}'}",
                language="yaml", wrap_lines=True,
            )
        with right:
            st.markdown("**Improved prompt**")
            st.code(record.improved_prompt, language=None, wrap_lines=True)
            st.markdown("**Guardrails**")
            st.code("\n".join(f"- {line}" for line in record.guardrails) or "–", language="markdown", wrap_lines=True)
            st.markdown("**Reasoning**")
            st.code(record.reasoning or "–", language=None, wrap_lines=True)


def main() -> None:
    context = app_context()
    st.title("History")
    st.caption("Every improvement, newest first: filter, search, select a row for every field, export as CSV.")
    if context.repo_error:
        _ui.database_problem(context)
        return
    try:
        view, min_confidence, text = _filters(context)
        size = int(st.session_state.get("history_page_size", 50))
        page = max(1, int(st.session_state.get("history_page", 1)))
        db, version = str(context.db_path), context.version
        order = _search_order(context, text)
        frame, total = queries.history_page(
            db, version, view.start, view.end, view.backend, view.model, min_confidence, text, size, (page - 1) * size,
            order, view.include_experiments,
        )
        if total and frame.empty and page > 1:  # the filters shrank the result below this page
            st.session_state["history_page"] = page = 1
            frame, total = queries.history_page(
                db, version, view.start, view.end, view.backend, view.model, min_confidence, text, size, 0, order,
                view.include_experiments,
            )
        if not total:
            overall = queries.kpis(db, version, None, None, None, None, True)
            if not overall.get("count"):
                _ui.demo_offer(context, key="history_demo")
            else:
                hidden = "" if view.include_experiments else " Experiment runs are hidden: turn on *Include experiment runs*."
                st.info(f"No record matches these filters. Widen the date range or clear the search.{hidden}",
                        icon=":material/search_off:")
            return
        # The download follows the count on the left: at the right edge the table's hover toolbar covered it.
        with st.container(horizontal=True, vertical_alignment="center", key="history_header"):
            st.markdown(f"**{total:,}** matching record(s) · select a row to see every field", width="content")
            _download.records_download(
                db, view, total, key="history_download", file_name="prompt-history.csv",
                min_confidence=min_confidence, text=text,
            )
        selected = _table(frame, _table_key(view, min_confidence, text, size, page, order))
        _pager(total, size, _search_view.ORDER_LABELS[order].lower())
        if selected:
            _detail(context, selected[0], text)
    except (RepositoryError, AnalyticsQueryError) as error:
        st.error(f"**The history could not be read.** {error}", icon=":material/error:")


main()
