"""Filling the full-text index (migration 7) with the rows stored before it existed. Uses `sqlite3`.

Rows saved after the migration are indexed by its triggers; older rows are indexed here, in batches
in id order. Each batch and the new high-water mark (`search_backfill_done` in `app_settings`) commit
in one transaction, so a killed back-fill loses at most the batch in flight and the next run resumes
where the last committed batch ended: a row is never indexed twice nor skipped. Until it is complete,
History's search falls back to the substring scan (and says so).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from store.repository import IndexProgress
from store.sqlite.schema import BULK_WRITE_KEY
from store.sqlite.connection import connect, translate_errors

logger = logging.getLogger(__name__)

DEFAULT_BATCH_ROWS = 20_000
AUTO_BACKFILL_ROWS = 50_000  # at most this many rows (a second or two) are indexed when a store opens
FTS_TABLE = "prompt_history_fts"
INDEXED_COLUMNS = ("original_idea", "context", "improved_prompt", "role", "directive", "guardrails")
_STATE_SQL = (
    "SELECT (SELECT CAST(value AS INTEGER) FROM app_settings WHERE key = 'search_backfill_done'), "
    "(SELECT CAST(value AS INTEGER) FROM app_settings WHERE key = 'search_backfill_end')"
)
_COLUMNS = ", ".join(INDEXED_COLUMNS)


def read_progress(conn: sqlite3.Connection) -> IndexProgress | None:
    """The back-fill state, or None for a file without the index (schema older than 7)."""
    done, end = conn.execute(_STATE_SQL).fetchone()
    return None if done is None or end is None else IndexProgress(done, end)


def _next_batch(conn: sqlite3.Connection, batch_rows: int) -> IndexProgress | None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        state = read_progress(conn)  # re-read under the write lock: another process may be filling too
        if state is None or state.complete:
            conn.execute("ROLLBACK")
            return state
        (last,) = conn.execute(
            "SELECT max(id) FROM (SELECT id FROM prompt_history WHERE id > ? AND id <= ? ORDER BY id LIMIT ?)",
            (state.done, state.end, batch_rows),
        ).fetchone()
        upto = state.end if last is None else last
        conn.execute(
            f"INSERT INTO {FTS_TABLE} (rowid, {_COLUMNS}) SELECT id, {_COLUMNS} FROM prompt_history "
            "WHERE id > ? AND id <= ?",
            (state.done, upto),
        )
        # Past the last stored id (rows deleted) the range is done too: nothing is left to index there.
        if upto >= (conn.execute("SELECT coalesce(max(id), 0) FROM prompt_history WHERE id <= ?", (state.end,))
                    .fetchone()[0]):
            upto = state.end
        conn.execute("UPDATE app_settings SET value = ? WHERE key = 'search_backfill_done'", (str(upto),))
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return IndexProgress(upto, state.end)


def backfill(
    db_path: Path, *, batch_rows: int = DEFAULT_BATCH_ROWS, busy_timeout_ms: int = 5000,
    progress: Callable[[IndexProgress], None] | None = None, max_rows: int | None = None,
) -> IndexProgress | None:
    """Index the rows stored before migration 7, `batch_rows` per transaction; return the final state.

    `progress` is called after each batch. With `max_rows`, nothing is done when more rows than that
    are left (the caller leaves a large back-fill to `prompt-improver search-index`). Returns None for
    a file without the index. Safe to interrupt at any point and to run again.
    """
    if batch_rows < 1:
        raise ValueError(f"batch_rows must be >= 1, got {batch_rows}")
    path = Path(db_path)
    with translate_errors(path), closing(connect(path, busy_timeout_ms)) as conn:
        state = read_progress(conn)
        if state is None or state.complete:
            return state
        if max_rows is not None and state.end - state.done > max_rows:
            logger.info("search index of %s: %d rows left for `prompt-improver search-index`", path,
                        state.end - state.done)
            return state
        while not state.complete:
            state = _next_batch(conn, batch_rows)
            if progress is not None:
                progress(state)
        logger.info("search index of %s complete", path)
        return state


def rebuild(conn: sqlite3.Connection) -> None:
    """Re-index every row inside the caller's transaction (after the table was replaced wholesale)."""
    if read_progress(conn) is None:
        return
    conn.execute(f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}) VALUES ('rebuild')")
    conn.execute(
        "UPDATE app_settings SET value = (SELECT value FROM app_settings WHERE key = 'search_backfill_end') "
        "WHERE key = 'search_backfill_done'"
    )


@contextmanager
def bulk_indexed(conn: sqlite3.Connection) -> Iterator[None]:
    """Inside the caller's write transaction: rows inserted in the block are indexed in one INSERT ... SELECT
    at its end instead of one trigger run each (migration 8). The flag row never outlives the transaction:
    committed without it, or rolled back with it."""
    if read_progress(conn) is None:  # a schema without the index: nothing to do
        yield
        return
    (before,) = conn.execute("SELECT coalesce(max(id), 0) FROM prompt_history").fetchone()
    conn.execute("INSERT INTO app_settings (key, value) VALUES (?, '1')", (BULK_WRITE_KEY,))
    yield
    # Ids only grow (AUTOINCREMENT) and the write lock is held: the rows above `before` are this block's.
    conn.execute(
        f"INSERT INTO {FTS_TABLE} (rowid, {_COLUMNS}) SELECT id, {_COLUMNS} FROM prompt_history WHERE id > ?",
        (before,),
    )
    conn.execute("DELETE FROM app_settings WHERE key = ?", (BULK_WRITE_KEY,))
