"""Filling PostgreSQL's full-text column (schema migration 5) for rows stored before it, then its GIN index.

Rows saved since the migration carry their words (store/postgres/rows.py). Older rows are filled here in
id order, `batch_rows` per transaction; each batch moves `search_backfill_done` in the same transaction
under an advisory lock, so a killed back-fill loses at most the batch in flight and a re-run (or a second
process) resumes where the last commit ended. Then the GIN index is built with `CREATE INDEX CONCURRENTLY`
(writes go on meanwhile); a build killed half-way leaves an INVALID index, which the next run drops and
builds again. Until both are done, History searches by substring (and says how far the index got).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import psycopg

from store.postgres.connection import mask_url, translate_errors
from store.postgres.fts import SEARCH_INDEX, STATE_SQL, guardrails_text, index_progress, tsvector
from store.repository import IndexProgress

logger = logging.getLogger(__name__)

DEFAULT_BATCH_ROWS = 20_000
AUTO_BACKFILL_ROWS = 50_000  # as for SQLite: a small upgraded history is indexed when the store opens
SEARCH_LOCK = 0x70726F6D707473  # advisory lock of the back-fill ("prompts"), beside the migrations' lock
_FILL = """
    UPDATE prompt_history AS p SET search_vector = v.words::tsvector
    FROM unnest(%s::bigint[], %s::text[]) AS v(id, words)
    WHERE p.id = v.id AND p.search_vector IS NULL
"""


def read_progress(conn: psycopg.Connection) -> IndexProgress | None:
    """The back-fill's state (None for a schema without the search column, older than version 5)."""
    return index_progress(*conn.execute(STATE_SQL).fetchone())


def _next_batch(conn: psycopg.Connection, batch_rows: int) -> tuple[int, int] | None:
    """Fill the next batch; (done, end) afterwards, or None when nothing was left to fill."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (SEARCH_LOCK,))
        done, end, _ = conn.execute(STATE_SQL).fetchone()  # re-read under the lock: another process may be filling
        if done >= end:
            return None
        rows = conn.execute(
            "SELECT id, original_idea, context, improved_prompt, role, directive, guardrails FROM prompt_history "
            "WHERE id > %s AND id <= %s ORDER BY id LIMIT %s", (done, end, batch_rows),
        ).fetchall()
        ids = [row[0] for row in rows]
        words = [tsvector((*row[1:6], guardrails_text(row[6]))) for row in rows]
        conn.execute(_FILL, (ids, words))
        upto = end if len(rows) < batch_rows else ids[-1]
        conn.execute("UPDATE app_settings SET value = %s WHERE key = 'search_backfill_done'", (str(upto),))
        return upto, end


def _build_index(conn: psycopg.Connection) -> None:
    valid = conn.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)", (SEARCH_INDEX,)).fetchone()
    if valid is not None and valid[0]:
        return
    if valid is not None:  # a CONCURRENTLY build that was killed: its leftover must go first
        conn.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {SEARCH_INDEX}")
    logger.info("building the search index %s", SEARCH_INDEX)
    conn.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {SEARCH_INDEX} ON prompt_history USING gin (search_vector)")


def backfill(
    url: str, *, batch_rows: int = DEFAULT_BATCH_ROWS, progress: Callable[[IndexProgress], None] | None = None,
    max_rows: int | None = None, timeout_s: float = 5.0,
) -> IndexProgress | None:
    """Fill the search column of rows stored before migration 5, then build the index; return the state.

    `progress` is called after each batch. With `max_rows`, nothing is done when more rows than that are
    left (the caller leaves a large history to `prompt-improver search-index`). None: no search column.

    Raises:
        RepositoryConnectionError: the server cannot be reached or refuses (privileges).
    """
    with translate_errors(url), psycopg.connect(url, autocommit=True, connect_timeout=max(1, round(timeout_s))) as conn:
        state = read_progress(conn)
        if state is None or state.complete:
            return state
        if max_rows is not None and state.end - state.done > max_rows:
            logger.info("%s: %d records wait for the search index; run `prompt-improver search-index`",
                        mask_url(url), state.end - state.done)
            return state
        while (step := _next_batch(conn, batch_rows)) is not None:
            if progress is not None:  # the index is the last step: not complete before it is built
                progress(IndexProgress(min(step[0], step[1] - 1), step[1]))
        _build_index(conn)
        state = read_progress(conn)
        if progress is not None:
            progress(state)
        logger.info("search index of %s complete", mask_url(url))
        return state
