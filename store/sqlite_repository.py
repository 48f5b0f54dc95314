"""The SQLite adapter of the PromptRepository port.

Every operation opens its own connection, runs in one transaction (`BEGIN IMMEDIATE` for writes) and
closes it, so the object is safe to share between threads and processes never share a connection.
The schema must already be migrated (`store.migrations.migrate`); an operation on a file with another
schema version raises RepositoryConnectionError instead of guessing.

One idle connection per process ("the WAL keeper") stays open while the repository lives: when the
last connection to a WAL database closes, SQLite checkpoints and deletes the WAL, which made every
`save` cost ~3 ms instead of ~0.4 ms. The keeper never runs a statement after opening and is never
handed to a caller; `close()` (or the garbage collector) closes it.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import weakref
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import replace
from datetime import datetime
from itertools import islice
from pathlib import Path

from store.errors import RepositoryConnectionError, RepositoryConstraintError
from store.query_rules import check_page, check_range, cutoff, like_pattern, parse_backend, text_matches
from store.record import BackendType, PromptHistory
from store.repository import DatabaseHealth, HistoryStatistics
from store.schema import SCHEMA_VERSION
from store.sqlite_io import INSERT_SQL, SELECT_SQL, check_path, connect, record_to_row, row_to_record, translate_errors
from store.timestamps import to_iso

logger = logging.getLogger(__name__)

_INSERT_ONCE = INSERT_SQL + " ON CONFLICT(uid) DO NOTHING"
_ORDER = " ORDER BY timestamp DESC, id DESC LIMIT ? OFFSET ?"
_BUMP_PRUNE_GENERATION = (
    "INSERT INTO app_settings (key, value) VALUES ('prune_generation', '1') "
    "ON CONFLICT(key) DO UPDATE SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)"
)
# Above this fraction of rows to delete, retention copies the survivors aside, empties the table with
# DELETE's truncate optimisation (which frees pages without rewriting them) and copies them back:
# a row-by-row DELETE of most of a large table rewrites nearly every page through the WAL.
REBUILD_FRACTION = 0.5
# Debian's and many distributions' SQLite is compiled with SECURE_DELETE, which overwrites every freed
# page with zeros: deleting 90% of a 1 GB table then writes ~1 GB through the WAL. FAST zeroes deleted
# content only on pages written anyway; `vacuum()` rewrites the file when free pages must not keep old
# text. A larger page cache keeps the survivors' pages in memory until the commit.
_PRUNE_PRAGMAS = ("secure_delete = FAST", "cache_size = -65536")


def _close_quietly(conn: sqlite3.Connection) -> None:
    try:
        conn.close()
    except sqlite3.Error:  # closing is best effort; nothing is pending on this connection
        pass


class SQLitePromptRepository:
    """Prompt history in one SQLite file. Constructing it does no I/O.

    Args:
        db_path: the database file (already migrated with `store.migrations.migrate`).
        busy_timeout_ms: how long an operation waits for another writer before failing.
        wal: whether the file is in WAL mode (then the WAL keeper is held; see the module docstring).
    """

    def __init__(self, db_path: Path | str, *, busy_timeout_ms: int = 5000, wal: bool = True) -> None:
        self.db_path = Path(db_path)
        self.busy_timeout_ms = busy_timeout_ms
        self.wal = wal
        self._keeper_lock = threading.Lock()
        self._keeper: sqlite3.Connection | None = None
        self._keeper_pid: int | None = None
        self._inherited: list[sqlite3.Connection] = []

    def __repr__(self) -> str:
        return f"SQLitePromptRepository({str(self.db_path)!r})"

    # -- connections ---------------------------------------------------------------------------

    def close(self) -> None:
        """Close the WAL keeper (operations still work afterwards and reopen it)."""
        with self._keeper_lock:
            if self._keeper is not None and self._keeper_pid == os.getpid():
                _close_quietly(self._keeper)
            self._keeper = None

    def __enter__(self) -> SQLitePromptRepository:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _hold_wal_open(self) -> None:
        if not self.wal or (self._keeper is not None and self._keeper_pid == os.getpid()):
            return
        with self._keeper_lock:
            if self._keeper is not None and self._keeper_pid != os.getpid():
                # Inherited across fork: closing it here could drop the parent's locks; keep it unused.
                self._inherited.append(self._keeper)
                self._keeper = None
            if self._keeper is None:
                keeper = sqlite3.connect(
                    f"{self.db_path.absolute().as_uri()}?mode=rw", uri=True, check_same_thread=False
                )
                keeper.execute("PRAGMA user_version").fetchone()  # a read opens the WAL index
                self._keeper, self._keeper_pid = keeper, os.getpid()
                weakref.finalize(self, _close_quietly, keeper)

    def _check_version(self, conn: sqlite3.Connection) -> None:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version == SCHEMA_VERSION:
            return
        if version > SCHEMA_VERSION:
            from store.migrations import newer_schema_error

            raise newer_schema_error(self.db_path, version)
        raise RepositoryConnectionError(
            f"{self.db_path} has schema version {version} but this code needs {SCHEMA_VERSION}; run the "
            "migrations first (store.migrations.migrate; the dashboard and every prompt-improver command "
            "run them at start)"
        )

    @contextmanager
    def _transaction(self, *, write: bool, pragmas: tuple[str, ...] = ()) -> Iterator[sqlite3.Connection]:
        """A fresh connection inside one transaction, committed on success and always closed."""
        with translate_errors(self.db_path):
            if not self.db_path.exists():
                check_path(self.db_path)
            with closing(connect(self.db_path, self.busy_timeout_ms)) as conn:
                for pragma in pragmas:
                    conn.execute(f"PRAGMA {pragma}")
                conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                try:
                    self._check_version(conn)
                    self._hold_wal_open()
                    yield conn
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise

    # -- writes ----------------------------------------------------------------------------------

    def save(self, record: PromptHistory) -> PromptHistory:
        """Store one record and return it with its id; a uid already stored returns the stored record.

        Raises:
            RepositoryConnectionError: the file cannot be opened or written, or has another schema.
            RepositoryConstraintError: a value breaks a constraint of the stored schema.
            RepositoryError: another writer held the database longer than the busy timeout.
        """
        params = record_to_row(record)
        with self._transaction(write=True) as conn:
            inserted = conn.execute(_INSERT_ONCE + " RETURNING id", params).fetchall()
            if not inserted:
                stored = conn.execute(SELECT_SQL + " WHERE uid = ?", (record.uid,)).fetchone()
                return row_to_record(stored)
        return replace(record, id=inserted[0][0])

    def save_many(self, records: Iterable[PromptHistory], batch_size: int = 10_000) -> int:
        """Store records in transactions of `batch_size` (streamed); return how many were new.

        Records whose uid is already stored are skipped, so a re-run of the same import adds nothing.
        """
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
        iterator = iter(records)
        stored = 0
        while batch := [record_to_row(record) for record in islice(iterator, batch_size)]:
            with self._transaction(write=True) as conn:
                before = conn.total_changes
                conn.executemany(_INSERT_ONCE, batch)
                stored += conn.total_changes - before
        return stored

    # -- reads ------------------------------------------------------------------------------------

    def get(self, record_id: int) -> PromptHistory | None:
        """The record with this id, or None."""
        with self._transaction(write=False) as conn:
            row = conn.execute(SELECT_SQL + " WHERE id = ?", (record_id,)).fetchone()
        return None if row is None else row_to_record(row)

    def _select(self, where: list[str], params: list, limit: int, offset: int) -> list[PromptHistory]:
        sql = SELECT_SQL + (" WHERE " + " AND ".join(where) if where else "") + _ORDER
        with self._transaction(write=False) as conn:
            if any("text_matches" in clause for clause in where):
                conn.create_function("text_matches", 2, text_matches, deterministic=True)
            rows = conn.execute(sql, [*params, limit, offset]).fetchall()
        return [row_to_record(row) for row in rows]

    def find_recent(
        self, limit: int = 100, offset: int = 0, backend: BackendType | str | None = None
    ) -> list[PromptHistory]:
        """Newest first (by timestamp, then id)."""
        check_page(limit, offset)
        backend = parse_backend(backend)
        where, params = ([], []) if backend is None else (["backend = ?"], [backend.value])
        return self._select(where, params, limit, offset)

    def find_by_date_range(
        self,
        start: datetime,
        end: datetime,
        backend: BackendType | str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[PromptHistory]:
        """Records with start <= timestamp < end, newest first."""
        check_range(start, end)
        check_page(limit, offset)
        backend = parse_backend(backend)
        where, params = ["timestamp >= ?", "timestamp < ?"], [to_iso(start), to_iso(end)]
        if backend is not None:
            where.append("backend = ?")
            params.append(backend.value)
        return self._select(where, params, limit, offset)

    def search(
        self, text: str, limit: int = 100, offset: int = 0, backend: BackendType | str | None = None
    ) -> list[PromptHistory]:
        """Records whose idea or improved prompt contains `text`, case-insensitively, newest first."""
        if not isinstance(text, str):
            raise ValueError(f"search text must be a string, got {text!r}")
        check_page(limit, offset)
        backend = parse_backend(backend)
        if text.isascii():  # LIKE folds ASCII case in C; wildcards in the user's text are escaped
            where = ["(original_idea LIKE ? ESCAPE '\\' OR improved_prompt LIKE ? ESCAPE '\\')"]
            params: list = [like_pattern(text)] * 2
        else:  # LIKE does not fold non-ASCII letters: use the same Python rule as the in-memory fake
            where = ["(text_matches(?, original_idea) OR text_matches(?, improved_prompt))"]
            params = [text, text]
        if backend is not None:
            where.append("backend = ?")
            params.append(backend.value)
        return self._select(where, params, limit, offset)

    def get_statistics(self, start: datetime | None = None, end: datetime | None = None) -> HistoryStatistics:
        """Count, average confidence and latency, and records per backend (both keys always present)."""
        where, params = [], []
        if start is not None:
            check_range(start, end or start)
            where.append("timestamp >= ?")
            params.append(to_iso(start))
        if end is not None:
            check_range(start or end, end)
            where.append("timestamp < ?")
            params.append(to_iso(end))
        clause = (" WHERE " + " AND ".join(where)) if where else ""
        with self._transaction(write=False) as conn:
            total, confidence, latency = conn.execute(
                f"SELECT count(*), avg(confidence), avg(latency_ms) FROM prompt_history{clause}", params
            ).fetchone()
            per_backend = conn.execute(
                f"SELECT backend, count(*) FROM prompt_history{clause} GROUP BY backend", params
            ).fetchall()
        distribution = {member.value: 0 for member in BackendType}
        distribution.update(dict(per_backend))
        return HistoryStatistics(total, confidence, latency, distribution)

    # -- retention ----------------------------------------------------------------------------------

    def count_older_than(self, days: int) -> int:
        """How many records `delete_older_than(days)` would delete now (a dry run)."""
        limit = to_iso(cutoff(days))
        with self._transaction(write=False) as conn:
            return conn.execute("SELECT count(*) FROM prompt_history WHERE timestamp < ?", (limit,)).fetchone()[0]

    def backup(self, target: Path | str) -> None:
        """Write a consistent copy of the database to `target` with SQLite's online backup API.

        Raises:
            RepositoryConnectionError: `target` already exists (a backup is never overwritten) or
                cannot be created.
        """
        target = Path(target)
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
            with translate_errors(self.db_path), closing(connect(self.db_path, self.busy_timeout_ms)) as source:
                self._check_version(source)
                with translate_errors(target), closing(connect(target, self.busy_timeout_ms, create=True)) as copy:
                    source.backup(copy)
        except BaseException:
            # A half-written backup must not pass for a good one (nor block the retry as "already exists").
            for leftover in (target, target.with_name(target.name + "-journal")):
                leftover.unlink(missing_ok=True)
            raise

    def delete_older_than(
        self, days: int, backup_to: Path | None = None, *, rebuild_fraction: float = REBUILD_FRACTION
    ) -> int:
        """Delete records older than `days` days and return how many; with `backup_to`, back up first.

        If the backup fails nothing is deleted. The delete and the `prune_generation` bump (which tells
        the analytics read model that rows disappeared) commit together. When at least
        `rebuild_fraction` of the rows go, the survivors are copied aside and back instead (see
        REBUILD_FRACTION); either way ids are never reused.
        """
        limit = to_iso(cutoff(days))
        if backup_to is not None:
            self.backup(backup_to)
        with self._transaction(write=True, pragmas=_PRUNE_PRAGMAS) as conn:
            doomed = conn.execute("SELECT count(*) FROM prompt_history WHERE timestamp < ?", (limit,)).fetchone()[0]
            if doomed == 0:
                return 0
            total = conn.execute("SELECT count(*) FROM prompt_history").fetchone()[0]
            if doomed >= rebuild_fraction * total:
                self._delete_by_rebuilding(conn, limit)
            else:
                conn.execute("DELETE FROM prompt_history WHERE timestamp < ?", (limit,))
            conn.execute(_BUMP_PRUNE_GENERATION)
        self._checkpoint()
        logger.info("deleted %d records older than %d days from %s", doomed, days, self.db_path)
        return doomed

    @staticmethod
    def _delete_by_rebuilding(conn: sqlite3.Connection, limit: str) -> None:
        # The table keeps its identity (indexes, triggers, views and the AUTOINCREMENT sequence are
        # untouched); only the rows move. A WHERE-less DELETE frees pages without logging their content.
        conn.execute(
            "CREATE TEMP TABLE prompt_history_survivors AS SELECT * FROM main.prompt_history WHERE timestamp >= ?",
            (limit,),
        )
        conn.execute("DELETE FROM main.prompt_history")
        conn.execute("INSERT INTO main.prompt_history SELECT * FROM temp.prompt_history_survivors ORDER BY id")
        conn.execute("DROP TABLE temp.prompt_history_survivors")

    def _checkpoint(self) -> None:
        # Move the WAL's pages into the database and truncate the WAL, so a large delete does not leave
        # a WAL as large as the deleted data. A busy reader only postpones this; it is not an error.
        with translate_errors(self.db_path), closing(connect(self.db_path, self.busy_timeout_ms)) as conn:
            busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            if busy:
                logger.info("WAL checkpoint of %s postponed: a reader is active", self.db_path)

    def vacuum(self) -> None:
        """Rebuild the file to reclaim the space of deleted rows (needs free disk of the file's size)."""
        with translate_errors(self.db_path), closing(connect(self.db_path, self.busy_timeout_ms)) as conn:
            self._check_version(conn)
            conn.execute("VACUUM")
        self._checkpoint()

    # -- health and settings ----------------------------------------------------------------------

    def health(self) -> DatabaseHealth:
        """File sizes, row count, schema version, journal mode and `PRAGMA quick_check`.

        Works on any schema version (it is what `doctor` shows), but the file must exist.
        """
        check_path(self.db_path)
        with translate_errors(self.db_path), closing(connect(self.db_path, self.busy_timeout_ms)) as conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            journal_mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
            has_table = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'prompt_history'"
            ).fetchone()
            rows = conn.execute("SELECT count(*) FROM prompt_history").fetchone()[0] if has_table else 0
            quick_check = "; ".join(row[0] for row in conn.execute("PRAGMA quick_check"))
        wal = self.db_path.with_name(self.db_path.name + "-wal")
        return DatabaseHealth(
            path=str(self.db_path),
            file_bytes=self.db_path.stat().st_size,
            wal_bytes=wal.stat().st_size if wal.exists() else 0,
            row_count=rows,
            schema_version=version,
            journal_mode=journal_mode,
            quick_check=quick_check,
        )

    def get_setting(self, key: str) -> str | None:
        """A value from the app_settings table, or None."""
        with self._transaction(write=False) as conn:
            row = conn.execute("SELECT value FROM app_settings WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def set_setting(self, key: str, value: str) -> None:
        """Store a text value in the app_settings table.

        Raises:
            RepositoryConstraintError: the key or value is not text (None breaks the NOT NULL
                constraint; a number would be silently turned into text by SQLite, so it is refused here).
        """
        for name, item in (("key", key), ("value", value)):
            if item is not None and not isinstance(item, str):
                raise RepositoryConstraintError(f"setting {name} must be text, got {type(item).__name__} {item!r}")
        with self._transaction(write=True) as conn:
            conn.execute(
                "INSERT INTO app_settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )
