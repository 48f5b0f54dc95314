"""The PostgreSQL adapter of the PromptRepository port.

Connections come from a pool (`store/postgres/connection.py`); every operation runs in one transaction
and returns its connection, so the object is safe to share between threads. The schema must already be
migrated (`store.postgres.migrations.migrate`, run by the composition root); another version is refused.
Answers equal the SQLite adapter's and the in-memory fake's (the contract tests run against all three).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from itertools import islice
from pathlib import Path

import psycopg

from store.errors import RepositoryConnectionError, RepositoryConstraintError
from store.postgres import bulk, rescore, retention, substring
from store.postgres.connection import mask_url, translate_errors
from store.postgres.pool import RenewingPool
from store.postgres.migrations import newer_schema_error, read_version
from store.postgres.rows import INSERT_SQL, SELECT_SQL, record_to_row, row_to_record
from store.postgres.schema import SCHEMA_VERSION
from store.query_rules import RecordFilter, check_page, cutoff, history_statistics
from store.record import BackendType, PromptHistory
from store.repository import DatabaseHealth, HistoryStatistics

logger = logging.getLogger(__name__)


class PostgresPromptRepository:
    """Prompt history in a PostgreSQL database. Constructing it connects nothing (the pool connects on demand).

    Args:
        url: `postgresql://user:password@host:port/database` (already migrated).
        timeout_s: how long an operation waits for a connection before failing (server down: the outbox).
    """

    def __init__(self, url: str, *, timeout_s: float = 5.0) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self._pool = RenewingPool(url, timeout_s=timeout_s)
        self._checked = False

    def __repr__(self) -> str:
        return f"PostgresPromptRepository({mask_url(self.url)!r})"

    @property
    def db_path(self) -> str:
        """Where the history lives, for messages (the URL with its password masked)."""
        return mask_url(self.url)

    def close(self) -> None:
        """Close the pool's connections (operations still work afterwards, on a new pool, as SQLite's do)."""
        self._pool.close()

    def __enter__(self) -> PostgresPromptRepository:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Connection]:
        """A pooled connection inside one transaction, committed on success."""
        with translate_errors(self.url), self._pool.connection() as conn, conn.transaction():
            if not self._checked:
                self._check_version(conn)
            yield conn

    def _check_version(self, conn: psycopg.Connection) -> None:
        version = read_version(conn)
        if version == SCHEMA_VERSION:
            self._checked = True
            return
        if version is not None and version > SCHEMA_VERSION:
            raise newer_schema_error(self.url, version)
        raise RepositoryConnectionError(
            f"{mask_url(self.url)} has schema version {version} but this code needs {SCHEMA_VERSION}; run the "
            "migrations first (store.postgres.migrations.migrate; every prompt-improver command runs them at start)"
        )

    # -- writes ----------------------------------------------------------------------------------

    def save(self, record: PromptHistory) -> PromptHistory:
        """Store one record and return it with its id; a uid already stored returns the stored record.

        Raises:
            RepositoryConnectionError: the server cannot be reached (in time) or has another schema.
            RepositoryConstraintError: a value breaks a constraint of the stored schema.
        """
        params = record_to_row(record)
        with self.transaction() as conn:
            inserted = conn.execute(INSERT_SQL + " RETURNING id", params).fetchone()
            if inserted is None:
                return row_to_record(conn.execute(SELECT_SQL + " WHERE uid = %s", (record.uid,)).fetchone())
        return replace(record, id=inserted[0])

    def save_many(self, records: Iterable[PromptHistory], batch_size: int = 10_000) -> int:
        """Store records in transactions of `batch_size` through COPY (streamed); return how many were new.

        Each batch is copied into a temporary table and inserted from there in the given order, skipping
        uids already stored (so a re-run adds nothing and ids follow the input order).
        """
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
        iterator = iter(records)
        stored = 0
        while batch := list(islice(iterator, batch_size)):
            with self.transaction() as conn:
                stored += bulk.copy_batch(conn, batch)
        return stored

    def update_quality(self, scores: Iterable[tuple[int, float, int]]) -> int:
        """Set (quality, metric_version) of each (id, quality, metric_version) in one transaction; return
        how many records changed (unknown ids are skipped). Tells the analytics read model to rebuild."""
        with self.transaction() as conn:
            return rescore.store_scores(conn, scores)

    # -- reads ------------------------------------------------------------------------------------

    def records_to_rescore(
        self, metric_version: int, *, after_id: int = 0, since: datetime | None = None, limit: int = 500
    ) -> list[PromptHistory]:
        """Up to `limit` records with id > `after_id` whose quality is not from `metric_version`, by id."""
        check_page(limit, 0)
        with self.transaction() as conn:
            return rescore.stale_records(conn, metric_version, after_id=after_id, since=since, limit=limit)

    def count_to_rescore(self, metric_version: int, since: datetime | None = None) -> int:
        """How many records' quality is not from `metric_version` (from `since` on, when given)."""
        with self.transaction() as conn:
            return rescore.count_stale(conn, metric_version, since)

    def get(self, record_id: int) -> PromptHistory | None:
        """The record with this id, or None."""
        with self.transaction() as conn:
            row = conn.execute(SELECT_SQL + " WHERE id = %s", (record_id,)).fetchone()
        return None if row is None else row_to_record(row)

    def _select(self, where: list[str], params: list, limit: int, offset: int) -> list[PromptHistory]:
        sql = SELECT_SQL + (" WHERE " + " AND ".join(where) if where else "") + substring.ORDER + " LIMIT %s OFFSET %s"
        with self.transaction() as conn:
            rows = conn.execute(sql, [*params, limit, offset]).fetchall()
        return [row_to_record(row) for row in rows]

    def find_recent(
        self, limit: int = 100, offset: int = 0, backend: BackendType | str | None = None,
        include_experiments: bool = True,
    ) -> list[PromptHistory]:
        """Newest first (by timestamp, then id); experiment runs left out unless `include_experiments`."""
        check_page(limit, offset)
        where, params = RecordFilter.of(backend=backend, include_experiments=include_experiments).where("%s")
        return self._select(where, params, limit, offset)

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
        check_page(limit, offset)
        keep = RecordFilter.of(start=start, end=end, backend=backend, include_experiments=include_experiments)
        where, params = keep.where("%s")
        return self._select(where, params, limit, offset)

    def search(
        self, text: str, limit: int = 100, offset: int = 0, backend: BackendType | str | None = None
    ) -> list[PromptHistory]:
        """Records whose idea or improved prompt contains `text`, case-insensitively, newest first
        (`store/postgres/substring.py`)."""
        check_page(limit, offset)
        where, params = RecordFilter.matching(text, backend).where("%s")
        if text.isascii():
            condition, values = substring.ascii_condition(text)
            return self._select([*where, condition], [*params, *values], limit, offset)
        with self.transaction() as conn:
            return substring.scan(conn, where, params, text, limit, offset)

    def get_statistics(self, start: datetime | None = None, end: datetime | None = None) -> HistoryStatistics:
        """Count, average confidence and latency, and records per backend (both keys always present)."""
        where, params = RecordFilter.of(start=start, end=end).where("%s")
        with self.transaction() as conn:
            return history_statistics(conn, where, params)

    # -- retention ----------------------------------------------------------------------------------

    def count_older_than(self, days: int) -> int:
        """How many records `delete_older_than(days)` would delete now (a dry run)."""
        limit = cutoff(days)
        with self.transaction() as conn:
            return conn.execute("SELECT count(*) FROM prompt_history WHERE timestamp < %s", (limit,)).fetchone()[0]

    def backup(self, target: Path | str) -> None:
        """Write a dump of the database to the new file `target` with `pg_dump` (custom format).

        Raises:
            RepositoryConnectionError: `target` exists (a backup is never overwritten), pg_dump is not
                installed, or it failed (its message, the password masked).
        """
        retention.dump(self.url, Path(target))

    def delete_older_than(self, days: int, backup_to: Path | None = None, *, rebuild_fraction: float = 0.5) -> int:
        """Delete records older than `days` days in batches and return how many; with `backup_to`, dump first.

        Each batch is its own short transaction (no lock held over the whole prune) and bumps
        `prune_generation` with its delete, so the analytics read model rebuilds. `rebuild_fraction` is
        accepted for the SQLite adapter's signature. If the backup fails nothing is deleted.
        """
        limit = cutoff(days)
        if backup_to is not None:
            self.backup(backup_to)
        deleted = 0
        while True:
            with self.transaction() as conn:
                batch = retention.delete_batch(conn, limit)
            deleted += batch
            if batch < retention.DELETE_BATCH:
                break
        if deleted:
            logger.info("deleted %d records older than %d days from %s", deleted, days, mask_url(self.url))
        return deleted

    def vacuum(self) -> None:
        """VACUUM the history table (PostgreSQL reuses the space; a full rewrite needs VACUUM FULL by hand)."""
        with translate_errors(self.url), self._pool.connection() as conn:
            conn.execute("VACUUM (ANALYZE) prompt_history")

    # -- health and settings ----------------------------------------------------------------------

    def health(self) -> DatabaseHealth:
        """Table size (with indexes), row count, schema version and the server's version.

        `journal_mode` names the server (PostgreSQL keeps its own write-ahead log); `quick_check` is "ok"
        when the table could be counted (PostgreSQL has no cheap integrity check to run here).
        """
        with translate_errors(self.url), self._pool.connection() as conn:
            version = read_version(conn)
            server = conn.execute("SELECT current_setting('server_version')").fetchone()[0]
            has_table = conn.execute("SELECT to_regclass('prompt_history') IS NOT NULL").fetchone()[0]
            rows, size = conn.execute(
                "SELECT count(*), pg_total_relation_size('prompt_history') FROM prompt_history"
            ).fetchone() if has_table else (0, 0)
        return DatabaseHealth(
            path=mask_url(self.url), file_bytes=int(size), wal_bytes=0, row_count=int(rows),
            schema_version=version if version is not None else -1, journal_mode=f"PostgreSQL {server}",
            quick_check="ok",
        )

    def get_setting(self, key: str) -> str | None:
        """A value from the app_settings table, or None."""
        with self.transaction() as conn:
            row = conn.execute("SELECT value FROM app_settings WHERE key = %s", (key,)).fetchone()
        return None if row is None else row[0]

    def set_setting(self, key: str, value: str) -> None:
        """Store a text value in the app_settings table (a key or value that is not text is refused)."""
        for name, item in (("key", key), ("value", value)):
            if not isinstance(item, str):
                raise RepositoryConstraintError(f"setting {name} must be text, got {type(item).__name__} {item!r}")
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO app_settings (key, value) VALUES (%s, %s) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )


__all__ = ["PostgresPromptRepository"]
