"""Retention on the SQLite file: the online backup, the two delete strategies, the WAL checkpoint.

Used by `SQLitePromptRepository`; the choices are measured in `bench/bench_store.py` and explained in
docs/store.md.
"""

from __future__ import annotations

import logging
import sqlite3
from contextlib import closing
from pathlib import Path

from store.errors import RepositoryConnectionError
from store.sqlite_io import check_path, connect, translate_errors

logger = logging.getLogger(__name__)

# Above this fraction of rows to delete, the survivors are copied aside, the table is emptied with
# DELETE's truncate optimisation (which frees pages without visiting rows) and they are copied back:
# a row-by-row DELETE of most of a large table rewrites nearly every table and index page.
REBUILD_FRACTION = 0.5

# Debian's (and many distributions') SQLite is compiled with SECURE_DELETE, which overwrites every freed
# page with zeros: deleting 90% of a 1 GB table then writes ~1 GB through the WAL. FAST zeroes deleted
# content only on pages written anyway; `vacuum()` rewrites the file when free pages must not keep old
# text. A larger page cache keeps the survivors' pages in memory until the commit.
PRUNE_PRAGMAS = ("secure_delete = FAST", "cache_size = -65536")

_BUMP_PRUNE_GENERATION = (
    "INSERT INTO app_settings (key, value) VALUES ('prune_generation', '1') "
    "ON CONFLICT(key) DO UPDATE SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)"
)


def backup(source: sqlite3.Connection, target: Path, busy_timeout_ms: int) -> None:
    """Copy the database open on `source` to the new file `target` with SQLite's online backup API.

    Raises:
        RepositoryConnectionError: `target` exists (a backup is never overwritten) or cannot be created.
    """
    if target.exists():
        raise RepositoryConnectionError(
            f"backup target {target} already exists; choose a new file name (backups are never overwritten)"
        )
    check_path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise RepositoryConnectionError(
            f"cannot create the directory {target.parent} for the backup ({error.strerror}); choose another path"
        ) from error
    try:
        with translate_errors(target), closing(connect(target, busy_timeout_ms, create=True)) as copy:
            source.backup(copy)
    except BaseException:
        # A half-written backup must not pass for a good one (nor block the retry as "already exists").
        for leftover in (target, target.with_name(target.name + "-journal")):
            leftover.unlink(missing_ok=True)
        raise


def delete_before(conn: sqlite3.Connection, limit: str, rebuild_fraction: float) -> int:
    """Delete rows with `timestamp < limit` inside the caller's write transaction; return how many.

    Bumps `prune_generation` in the same transaction when rows were deleted.
    """
    doomed = conn.execute("SELECT count(*) FROM prompt_history WHERE timestamp < ?", (limit,)).fetchone()[0]
    if doomed == 0:
        return 0
    total = conn.execute("SELECT count(*) FROM prompt_history").fetchone()[0]
    if doomed >= rebuild_fraction * total:
        # The table keeps its identity: indexes, triggers, views and the AUTOINCREMENT sequence are
        # untouched (so ids are never reused); only the surviving rows move out and back.
        conn.execute(
            "CREATE TEMP TABLE prompt_history_survivors AS SELECT * FROM main.prompt_history WHERE timestamp >= ?",
            (limit,),
        )
        conn.execute("DELETE FROM main.prompt_history")
        conn.execute("INSERT INTO main.prompt_history SELECT * FROM temp.prompt_history_survivors ORDER BY id")
        conn.execute("DROP TABLE temp.prompt_history_survivors")
    else:
        conn.execute("DELETE FROM prompt_history WHERE timestamp < ?", (limit,))
    conn.execute(_BUMP_PRUNE_GENERATION)
    return doomed


def checkpoint(db_path: Path, busy_timeout_ms: int) -> None:
    """Move the WAL's pages into the database and truncate the WAL (after a large delete or a vacuum).

    A reader that is still active only postpones this; it is not an error.
    """
    with translate_errors(db_path), closing(connect(db_path, busy_timeout_ms)) as conn:
        busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if busy:
            logger.info("WAL checkpoint of %s postponed: a reader is active", db_path)
