"""The migration runner: brings a database file to `store.sqlite.schema.SCHEMA_VERSION`, in place.

Run by the composition roots (the dashboard's `app.py`, the CLI), never at import. Each migration runs
in its own `BEGIN IMMEDIATE` transaction together with `PRAGMA user_version = N`, and re-reads the
version inside that transaction, so two processes migrating the same file at once both succeed and
each migration is applied exactly once.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from contextlib import closing
from pathlib import Path

from store.errors import RepositoryConnectionError
from store.sqlite.legacy_upgrade import is_legacy_layout, upgrade_legacy_table
from store.sqlite.schema import MIGRATIONS, SCHEMA_VERSION
from store.sqlite.connection import check_path, connect, split_statements, translate_errors

logger = logging.getLogger(__name__)

_SQLITE_BUSY = 5
_FOREIGN_NAMES_SHOWN = 5


def newer_schema_error(db_path: Path, version: int) -> RepositoryConnectionError:
    """The error for a file written by a newer version of the code (which we must not touch)."""
    return RepositoryConnectionError(
        f"{db_path} has schema version {version}, newer than the {SCHEMA_VERSION} this version of "
        "prompt-improver knows; upgrade prompt-improver to open it (the file was left untouched)"
    )


def refuse_foreign(conn: sqlite3.Connection, path: Path, version: int) -> None:
    """Refuse a database another application made: not empty, yet no `prompt_history` table.

    Every version of ours (and the original design's layout) has that table, so a file with objects of its
    own or a `user_version` of its own but without it is someone else's; migrating it would write five
    tables into it and switch its journal mode. Nothing has been written when this raises.

    Raises:
        RepositoryConnectionError: naming what was found (its tables, its user_version) and the fix.
    """
    names = [name for (name,) in conn.execute(
        "SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type = 'table' DESC, name"
    )]
    if "prompt_history" in names or (not names and version == 0):
        return
    found = []
    if names:
        shown = ", ".join(names[:_FOREIGN_NAMES_SHOWN]) + (", …" if len(names) > _FOREIGN_NAMES_SHOWN else "")
        found.append(f"{len(names)} object(s) of its own ({shown})")
    if version:
        found.append(f"user_version {version}")
    raise RepositoryConnectionError(
        f"{path} is an SQLite database of another application ({' and '.join(found)}, no prompt_history "
        "table); prompt-improver does not write into it and left it unchanged: point SQLITE_DB_PATH (or --db) "
        "at another file, e.g. data/prompt_history.db"
    )


def _user_version(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


def _create_parent(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise RepositoryConnectionError(
            f"cannot create the directory {path.parent} for {path} ({error.strerror}); create it with "
            "write permission for this user, or point SQLITE_DB_PATH elsewhere"
        ) from error


def _set_journal_mode(conn: sqlite3.Connection, path: Path, wal: bool, busy_timeout_ms: int) -> None:
    # Switching journal mode needs an exclusive lock, and SQLite may answer SQLITE_BUSY at once instead of
    # waiting (its deadlock avoidance), e.g. when another process is migrating the same new file; so the
    # switch is retried until the busy timeout, re-reading the mode (the other process may have set it).
    deadline = time.monotonic() + busy_timeout_ms / 1000
    while True:
        current = conn.execute("PRAGMA journal_mode").fetchone()[0].lower()
        # Only switch between WAL and the default; a user's own non-WAL choice (truncate, persist) stays.
        if wal and current != "wal":
            wanted = "wal"
        elif not wal and current == "wal":
            wanted = "delete"
        else:
            return
        try:
            result = conn.execute(f"PRAGMA journal_mode = {wanted}").fetchone()[0].lower()
        except sqlite3.OperationalError as error:
            if (error.sqlite_errorcode & 0xFF) != _SQLITE_BUSY or time.monotonic() > deadline:
                raise
            time.sleep(0.01)
            continue
        if result != wanted:
            raise RepositoryConnectionError(
                f"cannot switch {path} to journal_mode={wanted} (it stays {result}); check that the file "
                "and its directory are writable, or set SQLITE_WAL_MODE to match"
            )
        return


def _apply_next(conn: sqlite3.Connection, path: Path) -> bool:
    """Apply the next pending migration in its own transaction; False when none is pending."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = _user_version(conn)  # re-read under the write lock: another process may have migrated
        if version > SCHEMA_VERSION:
            raise newer_schema_error(path, version)
        if version == SCHEMA_VERSION:
            conn.execute("ROLLBACK")
            return False
        target = version + 1
        if target == 1 and is_legacy_layout(conn):
            upgrade_legacy_table(conn, path, MIGRATIONS[0])
        elif target == 1 and conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'prompt_history'").fetchone():
            raise RepositoryConnectionError(
                f"{path} already has a prompt_history table but schema version 0, a layout this code does not "
                "know (made by hand or by another tool?); the file was left unchanged; point SQLITE_DB_PATH "
                "at another file"
            )
        else:
            for statement in split_statements(MIGRATIONS[target - 1]):
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {target}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    logger.info("migrated %s to schema version %d", path, target)
    return True


def migrate(db_path: Path, *, wal: bool = True, busy_timeout_ms: int = 5000) -> int:
    """Create or upgrade the database at `db_path` to the current schema; return its schema version.

    Creates the parent directory, sets the journal mode (WAL, or DELETE when `wal` is False), upgrades
    a database made with the original design's schema in place, and applies every pending migration.
    Running it again changes nothing.

    Raises:
        RepositoryConnectionError: the path is a directory or cannot be created, the file or its
            directory is read-only, the file is not an SQLite database, its legacy rows cannot be
            converted, or its schema is newer than this code knows (the file is then left untouched).
        RepositoryError: another writer held the database longer than the busy timeout.
    """
    path = Path(db_path)
    check_path(path)
    _create_parent(path)
    with translate_errors(path), closing(connect(path, busy_timeout_ms, create=True)) as conn:
        version = _user_version(conn)
        refuse_foreign(conn, path, version)
        if version > SCHEMA_VERSION:
            raise newer_schema_error(path, version)
        # A rolled-back write proves the file is writable before anything is changed: a read-only file
        # would otherwise pass silently when no migration is pending (in WAL mode even BEGIN IMMEDIATE
        # succeeds on one; only writing a page fails).
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(f"PRAGMA user_version = {version}")
        finally:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
        _set_journal_mode(conn, path, wal, busy_timeout_ms)
        while _apply_next(conn, path):
            pass
        return _user_version(conn)


def schema_version(db_path: Path) -> int:
    """The schema version (`PRAGMA user_version`) of the file, 0 if it does not exist. Reads only.

    Raises:
        RepositoryConnectionError: the path is a directory, or the file is not an SQLite database.
    """
    path = Path(db_path)
    check_path(path)
    if not path.exists():
        return 0
    with translate_errors(path), closing(connect(path, 5000)) as conn:
        return _user_version(conn)
