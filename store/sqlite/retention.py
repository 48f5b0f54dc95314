"""Retention on the SQLite file: the online backup, the two delete strategies, the WAL checkpoint.

Used by `SQLitePromptRepository`; the choices are measured in `bench/bench_store.py` and explained in
docs/store.md.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from store import leftovers
from store.sqlite import search_index
from store.errors import RepositoryConnectionError
from store.sqlite.connection import check_path, connect, translate_errors

logger = logging.getLogger(__name__)

# Above this fraction of rows to delete, the survivors are copied into a new table that replaces the
# old one: a row-by-row DELETE of most of a large table rewrites nearly every table and index page,
# while dropping a table only frees its pages.
REBUILD_FRACTION = 0.5
_SURVIVORS = "prompt_history_survivors"
_CREATE_TABLE = re.compile(r'^\s*CREATE\s+TABLE\s+("?)prompt_history\1(?=[\s(])', re.IGNORECASE)

# Debian's (and many distributions') SQLite is compiled with SECURE_DELETE, which overwrites every freed
# page with zeros: deleting 90% of a 1 GB table then writes ~1 GB through the WAL. FAST zeroes deleted
# content only on pages written anyway; `vacuum()` rewrites the file when free pages must not keep old
# text. A larger page cache keeps the survivors' pages in memory until the commit.
PRUNE_PRAGMAS = ("secure_delete = FAST", "cache_size = -65536")

BUMP_PRUNE_GENERATION = (
    "INSERT INTO app_settings (key, value) VALUES ('prune_generation', '1') "
    "ON CONFLICT(key) DO UPDATE SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)"
)


def backup(source: sqlite3.Connection, target: Path, busy_timeout_ms: int) -> None:
    """Copy the database open on `source` to the new file `target` with SQLite's online backup API.

    Raises:
        RepositoryConnectionError: `target` exists (a backup is never overwritten) or cannot be created.
    """
    if target.exists():
        raise _exists(target)
    check_path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise RepositoryConnectionError(
            f"cannot create the directory {target.parent} for the backup ({error.strerror}); choose another path"
        ) from error
    leftovers.remove_stale(target)
    # Written under a temporary name and renamed when complete: a killed backup must not pass for a good
    # one (a half-written file opens as an empty database), nor block the retry as "already exists".
    temporary = leftovers.temporary_path(target)
    try:
        with translate_errors(target), _backup_target_errors(target):
            with closing(connect(temporary, busy_timeout_ms, create=True)) as copy:
                source.backup(copy)
            leftovers.publish(temporary, target)
    except FileExistsError:
        raise _exists(target) from None
    finally:
        for leftover in (temporary, temporary.with_name(temporary.name + "-journal")):
            leftover.unlink(missing_ok=True)


def _exists(target: Path) -> RepositoryConnectionError:
    return RepositoryConnectionError(
        f"backup target {target} already exists; choose a new file name (backups are never overwritten)"
    )


_TARGET_CODES = frozenset({3, 8, 10, 13, 14})  # SQLITE_PERM, READONLY, IOERR, FULL, CANTOPEN: the new file's problems


@contextmanager
def _backup_target_errors(target: Path) -> Iterator[None]:
    # The generic translation would call an uncreatable backup "a database that does not exist; run
    # the migrations"; the user needs to hear that the backup file cannot be written, and nothing was deleted.
    try:
        yield
    except sqlite3.Error as error:
        if ((getattr(error, "sqlite_errorcode", None) or 0) & 0xFF) not in _TARGET_CODES:
            raise
        raise RepositoryConnectionError(
            f"cannot write the backup {target} ({error}); nothing was deleted: choose a backup path in a "
            "directory you can write, with free space about the size of the database"
        ) from error


def delete_before(conn: sqlite3.Connection, limit: str, rebuild_fraction: float) -> int:
    """Delete rows with `timestamp < limit` inside the caller's write transaction; return how many.

    Bumps `prune_generation` in the same transaction when rows were deleted.
    """
    # Counting the (usually few) survivors through the timestamp index is cheaper than counting the doomed.
    total = conn.execute("SELECT count(*) FROM prompt_history").fetchone()[0]
    kept = conn.execute("SELECT count(*) FROM prompt_history WHERE timestamp >= ?", (limit,)).fetchone()[0]
    doomed = total - kept
    if doomed == 0:
        return 0
    if doomed >= rebuild_fraction * total:
        _replace_with_survivors(conn, limit)
    else:
        conn.execute("DELETE FROM prompt_history WHERE timestamp < ?", (limit,))
    conn.execute(BUMP_PRUNE_GENERATION)
    return doomed


def _replace_with_survivors(conn: sqlite3.Connection, limit: str) -> None:
    """Copy the rows with `timestamp >= limit` into a new table and swap it in (caller's transaction).

    The new table is made from the stored definition (so columns added by later migrations come
    along), its indexes and triggers are recreated from theirs after the copy, and the AUTOINCREMENT
    high-water mark is carried over, so ids are never reused.
    """
    (table_sql,) = conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'prompt_history'"
    ).fetchone()
    dependents = conn.execute(
        "SELECT sql FROM sqlite_master WHERE tbl_name = 'prompt_history' AND type IN ('index', 'trigger') "
        "AND sql IS NOT NULL ORDER BY type = 'trigger'"
    ).fetchall()
    sequence = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'prompt_history'").fetchone()
    survivors_sql, replaced = _CREATE_TABLE.subn(f"CREATE TABLE {_SURVIVORS}", table_sql, count=1)
    if replaced != 1:  # a definition we cannot rename safely: delete row by row instead
        logger.warning("prompt_history's definition was not recognised; deleting row by row")
        conn.execute("DELETE FROM prompt_history WHERE timestamp < ?", (limit,))
        return
    conn.execute(survivors_sql)
    conn.execute(f"INSERT INTO {_SURVIVORS} SELECT * FROM prompt_history WHERE timestamp >= ?", (limit,))
    conn.execute("DROP TABLE prompt_history")
    # Legacy rename touches only this table: it neither checks nor rewrites views and triggers of other
    # tables that name prompt_history (which would fail while the name is briefly free).
    conn.execute("PRAGMA legacy_alter_table = ON")
    try:
        conn.execute(f"ALTER TABLE {_SURVIVORS} RENAME TO prompt_history")
    finally:
        conn.execute("PRAGMA legacy_alter_table = OFF")
    for (sql,) in dependents:
        conn.execute(sql)
    # The drop fired no delete triggers: the full-text index still holds the dropped rows.
    search_index.rebuild(conn)
    if sequence is not None:
        updated = conn.execute(
            "UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = 'prompt_history'", sequence
        ).rowcount
        if not updated:
            conn.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('prompt_history', ?)", sequence)


def checkpoint(db_path: Path, busy_timeout_ms: int) -> None:
    """Move the WAL's pages into the database and truncate the WAL (after a large delete or a vacuum).

    A reader that is still active only postpones this; it is not an error.
    """
    with translate_errors(db_path), closing(connect(db_path, busy_timeout_ms)) as conn:
        busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if busy:
            logger.info("WAL checkpoint of %s postponed: a reader is active", db_path)
