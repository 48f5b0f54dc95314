"""History's search: what the box understands, the index's progress, and matched words marked in a record.

The query runs in the analytics worker (FTS5 through DuckDB's SQLite, or PostgreSQL's tsvector index through
DuckDB's postgres extension); the back-fill button writes with `sqlite3` (or psycopg) in this process, which
never loads DuckDB's SQLite (the worker is a separate process).
"""

from __future__ import annotations

import html

import streamlit as st

from store.postgres.urls import is_postgres_url
from store.sqlite.search_index import backfill
from store.search_query import matched_spans, parse

SEARCH_HELP = (
    "Finds records by the words of their idea, context, improved prompt, role, directive and guardrails, "
    "in any case, accents ignored (`cafe` finds *Café*).  \n"
    "`two words`: both must occur · `\"exact phrase\"`: the words in this order · `news*`: words starting "
    "with *news* · `-word`: leave out records with it · `tone OR voice`: either.  \n"
    "Punctuation and emoji only separate words; they are not searched."
)
ORDER_LABELS = {"time": "Newest first", "relevance": "Best match first"}


def index_notice(fraction: float | None, location: str, busy_timeout_ms: int) -> bool:
    """Say how far the search index of the history at `location` (a file or a PostgreSQL URL) is built and
    offer to finish it; True when a build just completed."""
    if fraction is None or fraction >= 1.0:
        return False
    st.info(
        f"The search index is {fraction:.0%} built: until it is complete, search matches the idea and the "
        "improved prompt as plain text. Build it here or with `prompt-improver search-index` (safe to stop and "
        "resume).", icon=":material/manage_search:",
    )
    if not st.button("Build the search index now", key="history_build_index", icon=":material/build:"):
        return False
    bar = st.progress(fraction, text="Building the search index…")

    def show(state) -> None:
        bar.progress(state.fraction, text=f"Building the search index… {state.fraction:.0%}")

    if is_postgres_url(location):
        from store.postgres.search_index import backfill as backfill_postgres

        backfill_postgres(location, progress=show)
    else:
        backfill(location, busy_timeout_ms=busy_timeout_ms, progress=show)
    bar.progress(1.0, text="The search index is complete.")
    return True


def marked(text: str, query_text: str) -> str | None:
    """`text` as HTML with the words the search names in <mark>, or None when none occurs."""
    spans = matched_spans(text, parse(query_text))
    if not spans:
        return None
    parts, last = [], 0
    for start, end in spans:
        parts.append(html.escape(text[last:start]) + "<mark>" + html.escape(text[start:end]) + "</mark>")
        last = end
    parts.append(html.escape(text[last:]))
    return "".join(parts)


def show_matches(fields: dict[str, str], query_text: str) -> None:
    """A 'Search matches' block: every field holding a searched word, the words marked."""
    shown = [(label, marked(value, query_text)) for label, value in fields.items()]
    shown = [(label, body) for label, body in shown if body]
    if not shown:
        return
    with st.container(border=True, key="history_matches"):
        st.markdown("**Search matches**")
        for label, body in shown:
            st.caption(label)
            st.markdown(f'<div style="white-space: pre-wrap">{body}</div>', unsafe_allow_html=True)
