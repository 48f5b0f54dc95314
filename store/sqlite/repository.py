"""The SQLite adapter of the PromptRepository port.

Every operation runs in one transaction (store/sqlite/transactions.py; `BEGIN IMMEDIATE` for writes) on
its thread's own connection
(store/sqlite/thread_connections.py: kept open between operations, never shared between threads,
closed when the thread ends or by `close()`), so the object is safe to share between threads and
processes never share a connection. An operation with its own pragmas (the prune) opens a fresh one.
The schema must already be migrated (`store.sqlite.migrations.migrate`); an operation on a file with another
schema version raises RepositoryConnectionError instead of guessing.

While the repository lives, a `WalKeeper` holds one idle connection per process so that the WAL is not
checkpointed and deleted after every operation (see store/sqlite/wal_keeper.py); `close()` releases it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from contextlib import closing
from dataclasses import replace
from datetime import datetime
from itertools import islice
from pathlib import Path

from store.sqlite import rescore as sqlite_rescore
from store.sqlite import retention as sqlite_retention
from store.errors import RepositoryConstraintError
from store.query_rules import RecordFilter, check_page, cutoff, history_statistics, like_pattern, text_matches
from store.record import BackendType, PromptHistory
from store.repository import DatabaseHealth, HistoryStatistics
from store.sqlite.search_index import bulk_indexed
from store.sqlite.connection import (
    INSERT_SQL, SELECT_SQL, check_path, connect, invalid_text_ids, record_to_row, row_to_record, translate_errors,
)
from store.sqlite.retention import PRUNE_PRAGMAS, REBUILD_FRACTION
from store.timestamps import to_iso
from store.sqlite.transactions import Transactions

logger = logging.getLogger(__name__)

INVALID_TEXT_IDS_SHOWN = 10  # `doctor` names this many records with invalid UTF-8 (and counts them all)
_INSERT_ONCE = INSERT_SQL + " ON CONFLICT(uid) DO NOTHING"
_ORDER = " ORDER BY timestamp DESC, id DESC LIMIT ? OFFSET ?"


class SQLitePromptRepository:
    """Prompt history in one SQLite file. Constructing it does no I/O.

    Args:
        db_path: the database file (already migrated with `store.sqlite.migrations.migrate`).
        busy_timeout_ms: how long an operation waits for another writer before failing.
        wal: whether the file is in WAL mode (then the WAL keeper is held; see the module docstring).
    """

    def __init__(self, db_path: Path | str, *, busy_timeout_ms: int = 5000, wal: bool = True) -> None:
        self.db_path = Path(db_path)
        self.busy_timeout_ms = busy_timeout_ms
        self.wal = wal
        self._tx = Transactions(self.db_path, busy_timeout_ms, wal=wal)

    def __repr__(self) -> str:
        return f"SQLitePromptRepository({str(self.db_path)!r})"

    # -- connections ---------------------------------------------------------------------------

    def close(self) -> None:
        """Close every thread's connection and release the WAL keeper (operations still work afterwards
        and open them again)."""
        self._tx.close()

    def __enter__(self) -> SQLitePromptRepository:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- writes ----------------------------------------------------------------------------------

    def save(self, record: PromptHistory) -> PromptHistory:
        """Store one record and return it with its id; a uid already stored returns the stored record.

        Raises:
            RepositoryConnectionError: the file cannot be opened or written, or has another schema.
            RepositoryConstraintError: a value breaks a constraint of the stored schema.
            RepositoryError: another writer held the database longer than the busy timeout.
        """
        params = record_to_row(record)
        with self._tx.run(write=True) as conn:
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
            with self._tx.run(write=True) as conn, bulk_indexed(conn):
                stored += conn.executemany(_INSERT_ONCE, batch).rowcount
        return stored

    def update_quality(self, scores: Iterable[tuple[int, float, int]]) -> int:
        """Set (quality, metric_version) of each (id, quality, metric_version) in one transaction; return
        how many records changed (unknown ids are skipped). Tells the analytics read model to rebuild."""
        with self._tx.run(write=True) as conn:
            return sqlite_rescore.store_scores(conn, scores)

    # -- reads ------------------------------------------------------------------------------------

    def records_to_rescore(
        self, metric_version: int, *, after_id: int = 0, since: datetime | None = None, limit: int = 500
    ) -> list[PromptHistory]:
        """Up to `limit` records with id > `after_id` whose quality is not from `metric_version`, by id."""
        check_page(limit, 0)
        with self._tx.run(write=False) as conn:
            return sqlite_rescore.stale_records(conn, metric_version, after_id=after_id, since=since, limit=limit)

    def count_to_rescore(self, metric_version: int, since: datetime | None = None) -> int:
        """How many records' quality is not from `metric_version` (from `since` on, when given)."""
        with self._tx.run(write=False) as conn:
            return sqlite_rescore.count_stale(conn, metric_version, since)

    def get(self, record_id: int) -> PromptHistory | None:
        """The record with this id, or None."""
        with self._tx.run(write=False) as conn:
            row = conn.execute(SELECT_SQL + " WHERE id = ?", (record_id,)).fetchone()
        return None if row is None else row_to_record(row)

    def _select(self, keep: RecordFilter, limit: int, offset: int) -> list[PromptHistory]:
        check_page(limit, offset)
        where, params = keep.where("?", to_iso)
        if keep.text is not None and keep.text.isascii():  # LIKE folds ASCII case in C; wildcards escaped
            where.append("(original_idea LIKE ? ESCAPE '\\' OR improved_prompt LIKE ? ESCAPE '\\')")
            params += [like_pattern(keep.text)] * 2
        elif keep.text is not None:  # LIKE does not fold non-ASCII letters: the in-memory fake's Python rule
            where.append("(text_matches(?, original_idea) OR text_matches(?, improved_prompt))")
            params += [keep.text] * 2
        sql = SELECT_SQL + (" WHERE " + " AND ".join(where) if where else "") + _ORDER
        with self._tx.run(write=False) as conn:
            if keep.text is not None and not keep.text.isascii():
                conn.create_function("text_matches", 2, text_matches, deterministic=True)
            rows = conn.execute(sql, [*params, limit, offset]).fetchall()
        return [row_to_record(row) for row in rows]

    def find_recent(
        self, limit: int = 100, offset: int = 0, backend: BackendType | str | None = None,
        include_experiments: bool = True,
    ) -> list[PromptHistory]:
        """Newest first (by timestamp, then id); experiment runs left out unless `include_experiments`."""
        return self._select(RecordFilter.of(backend=backend, include_experiments=include_experiments), limit, offset)

    def find_by_date_range(
        self,
        start: datetime,
        end: datetime,
        backend: BackendType | str | None = None,
        limit: int = 100,
        offset: int = 0,
        include_experiments: bool = True,
    ) -> list[PromptHistory]:
        """Records with start <= timestamp < end, newest first; experiment runs too unless told otherwise."""
        keep = RecordFilter.of(start=start, end=end, backend=backend, include_experiments=include_experiments)
        return self._select(keep, limit, offset)

    def search(
        self, text: str, limit: int = 100, offset: int = 0, backend: BackendType | str | None = None
    ) -> list[PromptHistory]:
        """Records whose idea or improved prompt contains `text`, case-insensitively, newest first."""
        return self._select(RecordFilter.matching(text, backend), limit, offset)

    def get_statistics(self, start: datetime | None = None, end: datetime | None = None) -> HistoryStatistics:
        """Count, average confidence and latency, and records per backend (both keys always present)."""
        where, params = RecordFilter.of(start=start, end=end).where("?", to_iso)
        with self._tx.run(write=False) as conn:
            return history_statistics(conn, where, params)

    # -- retention ----------------------------------------------------------------------------------

    def count_older_than(self, days: int) -> int:
        """How many records `delete_older_than(days)` would delete now (a dry run)."""
        limit = to_iso(cutoff(days))
        with self._tx.run(write=False) as conn:
            return conn.execute("SELECT count(*) FROM prompt_history WHERE timestamp < ?", (limit,)).fetchone()[0]

    def backup(self, target: Path | str) -> None:
        """Write a consistent copy of the database to the new file `target` (SQLite's online backup API).

        Raises:
            RepositoryConnectionError: `target` already exists (a backup is never overwritten) or cannot
                be created; the database cannot be opened or has another schema version.
        """
        with translate_errors(self.db_path), self._tx.fresh() as source:
            self._tx.check_version(source)
            sqlite_retention.backup(source, Path(target), self.busy_timeout_ms)

    def delete_older_than(
        self, days: int, backup_to: Path | None = None, *, rebuild_fraction: float = REBUILD_FRACTION
    ) -> int:
        """Delete records older than `days` days and return how many; with `backup_to`, back up first.

        If the backup fails nothing is deleted. The delete and the `prune_generation` bump (which tells
        the analytics read model that rows disappeared) commit together. When at least
        `rebuild_fraction` of the rows go, the survivors are copied aside and back instead of deleting
        row by row (see store/sqlite/retention.py); either way ids are never reused. The WAL is
        checkpointed and truncated afterwards.
        """
        limit = to_iso(cutoff(days))
        if backup_to is not None:
            self.backup(backup_to)
        with self._tx.run(write=True, pragmas=PRUNE_PRAGMAS) as conn:
            deleted = sqlite_retention.delete_before(conn, limit, rebuild_fraction)
        if deleted:
            sqlite_retention.checkpoint(self.db_path, self.busy_timeout_ms)
            logger.info("deleted %d records older than %d days from %s", deleted, days, self.db_path)
        return deleted

    def vacuum(self) -> None:
        """Rebuild the file to reclaim the space of deleted rows (needs free disk of the file's size)."""
        with translate_errors(self.db_path), self._tx.fresh() as conn:
            self._tx.check_version(conn)
            conn.execute("VACUUM")
        sqlite_retention.checkpoint(self.db_path, self.busy_timeout_ms)

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
            invalid_ids = invalid_text_ids(conn) if has_table else []
            wal = self.db_path.with_name(self.db_path.name + "-wal")
            file_bytes, wal_bytes = self.db_path.stat().st_size, wal.stat().st_size if wal.exists() else 0
        return DatabaseHealth(
            path=str(self.db_path),
            file_bytes=file_bytes,
            wal_bytes=wal_bytes,
            row_count=rows,
            schema_version=version,
            journal_mode=journal_mode,
            quick_check=quick_check,
            invalid_text_ids=tuple(invalid_ids[:INVALID_TEXT_IDS_SHOWN]),
            invalid_text_count=len(invalid_ids),
        )

    def get_setting(self, key: str) -> str | None:
        """A value from the app_settings table, or None."""
        with self._tx.run(write=False) as conn:
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
        with self._tx.run(write=True) as conn:
            conn.execute(
                "INSERT INTO app_settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )
