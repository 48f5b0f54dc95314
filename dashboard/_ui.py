"""Pieces every page shares: the sidebar, the demo banner and offer, the database-problem box, formats."""

from __future__ import annotations

import html
import math
import re

import streamlit as st

from dashboard._context import AppContext, enter_demo_mode, leave_demo_mode
from dashboard.composition import DEMO_DAYS, DEMO_ROWS
from prompt_improver.settings import Settings


def model_label(config: Settings) -> str:
    """The model in use as one line, e.g. "openai/gpt-4o-mini" or "openai/qwen2.5 @ http://…" (no credentials)."""
    from pipeline.lm import describe_model  # cheap: pipeline.lm imports DSPy only when a model is built

    return describe_model(config.llm_model, config.llm_api_base)


def sidebar(context: AppContext) -> None:
    """The model in use, the database in use, and what start-up did."""
    with st.sidebar:
        st.caption("MODEL")
        if context.user_settings.llm_model:
            st.markdown(f":material/smart_toy: `{model_label(context.user_settings)}`")
        else:
            st.markdown(":material/smart_toy: *not configured* — see **Improve**")
        st.caption("DATABASE")
        label = "Demo database" if context.demo else "Your history"
        st.markdown(f":material/database: {label}")
        st.markdown(path_html(str(context.db_path)), unsafe_allow_html=True)
        if context.history_off:
            st.markdown(":orange[:material/history_toggle_off: history is off (SQLITE_ENABLED=false)]")
        elif context.repo_error:
            st.markdown(":red[:material/error: cannot be opened]")
        report = context.startup
        if report is not None and (report.replayed or report.pruned):
            st.caption(
                f"At start: {report.replayed:,} record(s) replayed from the outbox, {report.pruned:,} pruned."
            )


PATH_STYLE = (
    "font-family: 'Source Code Pro', monospace; font-size: 0.8rem; line-height: 1.4; padding: 0.5rem 0.75rem; "
    "background: rgba(79, 70, 229, 0.06); border-radius: 0.5rem; word-break: normal; overflow-wrap: anywhere;"
)


def path_html(path: str) -> str:
    """A file path as a small code block that wraps after a directory separator ("/" or "\\").

    A plain code block breaks a long path anywhere ("prompt_hist / ory.db"); here every separator is a
    break opportunity (<wbr>), and only a single name longer than the sidebar is broken inside.
    """
    parts = re.split(r"(?<=[/\\])", path)
    wrapped = "<wbr>".join(html.escape(part) for part in parts if part)
    return f'<div style="{PATH_STYLE}" title="{html.escape(path)}">{wrapped}</div>'


def demo_banner(context: AppContext) -> None:
    """A visible banner while this session looks at the demo database, with the way back."""
    if not context.demo:
        return
    # A wrapping row rather than fixed columns: in a 1:5 column the button's label was cut ("Back to my hi…").
    with st.container(border=True, key="demo_banner", horizontal=True, vertical_alignment="center"):
        st.markdown(
            ":material/science: **Demo mode** — you are exploring synthetic data in a separate database "
            f"(`{context.db_path.name}`). Your own history is untouched.",
            width="stretch",
        )
        st.button("Back to my history", key="leave_demo", on_click=leave_demo_mode, icon=":material/undo:",
                  width="content")


def demo_offer(context: AppContext, *, key: str) -> None:
    """On an empty user database: the invitation to explore with demo data."""
    if context.demo:
        return
    with st.container(border=True):
        st.markdown(
            "#### Nothing here yet\n"
            "Improve a prompt on the **Improve** page and it will show up here — or look around first with "
            f"{DEMO_ROWS:,} synthetic improvements over {DEMO_DAYS} days, kept in a separate demo database "
            "that never mixes with your history."
        )
        st.button("Explore with demo data", key=key, on_click=enter_demo_mode, type="primary", icon=":material/science:")


def database_problem(context: AppContext) -> None:
    """Why there is no history to show (turned off, or a database that cannot be opened), and what still works."""
    if context.history_off:
        st.info(
            "**History is turned off** (SQLITE_ENABLED=false): improvements are shown on the Improve page but not "
            "stored, so there is nothing to list or analyse. Set SQLITE_ENABLED=true and restart to keep them.",
            icon=":material/history_toggle_off:",
        )
        return
    st.error(f"**The history database cannot be opened.** {context.repo_error}", icon=":material/error:")
    st.caption(
        "Set SQLITE_DB_PATH to a writable database file and reload. Improvements still work: records that cannot "
        "be stored are kept in the outbox and replayed when the database is back."
    )


_MARKDOWN_INLINE = re.compile(r"([\\`*_\[\]$<>~|])")
_MARKDOWN_LINE_START = re.compile(r"^(\s*)([#>+-]|\d+(?=[.)]))([.)]?)", re.MULTILINE)


def plain_md(text: str) -> str:
    """User or model text made safe to show inside markdown (captions, labels, lists): the characters that
    start emphasis, code, links, LaTeX or HTML are escaped, and so is a heading/list/quote marker at a
    line's start, so "costs $5 to $10" is not set as LaTeX and "*draft*" is not italic."""
    escaped = _MARKDOWN_INLINE.sub(r"\\\1", text)
    # "\\#" for a marker character, "12\\." for an ordered-list number (a backslash before a digit is literal)
    return _MARKDOWN_LINE_START.sub(
        lambda m: m.group(1) + (m.group(2) + "\\" + m.group(3) if m.group(2).isdigit() else "\\" + m.group(2) + m.group(3)),
        escaped,
    )


def fmt_latency(ms: float | None) -> str:
    """Milliseconds as "850 ms" or "2.41 s"; "–" when unknown."""
    if ms is None or (isinstance(ms, float) and math.isnan(ms)):
        return "–"
    return f"{ms:,.0f} ms" if ms < 1000 else f"{ms / 1000:,.2f} s"


def fmt_score(value: float | None) -> str:
    """A 0–1 score with two decimals; "–" when unknown."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.2f}"
