"""The analytics read model: a native DuckDB table holding the analytic columns of `prompt_history`.

Why: DuckDB's sqlite scanner does not push a date range down into SQLite, so every query over a plain
ATTACH reads the whole table (about 1 s per query at 1M rows here); a native table answers in a few
milliseconds. The table is filled once (one single-threaded scan: a consistent snapshot) and then kept
fresh before every query by copying only the rows above an id watermark, which `sqlite_query()` fetches
through SQLite's rowid index in about a millisecond. AUTOINCREMENT ids never come back and SQLite
commits one writer at a time, so rows at or below the watermark only change by deletion: the store
bumps `app_settings.prune_generation` in the same transaction as every retention delete, and a changed
generation, a maximum id below the watermark, another uid at the watermark (the file was replaced, e.g.
restored from a backup) or (checked every `verify_interval_s`) a row count that no longer matches all
trigger a rebuild.

A large model is also kept on disk between processes (`store/analytics/snapshot.py`), validated the
same way before use. The SQLite file is attached READ_ONLY for the length of one sync or query and detached afterwards, and
every result is consumed fully, so no read transaction stays open to block the writer's checkpoints.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from store.analytics import snapshot
from store.analytics.history_file import check_history_file, check_schema_version, connection_error
from store.analytics.model_load import ALIAS as ALIAS  # re-exported: the queries name the model's tables
from store.analytics.model_load import ALL, EMPTY_LOCAL, LOCAL, SCOPES, append_above, full_load
from store.analytics.model_load import TABLE as TABLE
from store.analytics.ranges import literal
from store.analytics.snapshot import SnapshotState

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SyncResult:
    """What one freshness sync did: `mode` is 'missing', 'unchanged', 'append', 'restore' or 'rebuild'."""

    mode: str
    rows: int
    added: int = 0


class ReadModel:
    """The `records` table in `connection`, mirroring the history in `db_path`. Never writes to the file.

    Not thread-safe: one owner (the analytics worker's loop, or a CLI command) calls it. With
    `snapshot_min_rows` set, histories of at least that many rows are also kept on disk (see
    `store/analytics/snapshot.py`) so the next process starts from there.
    """

    def __init__(
        self, connection: duckdb.DuckDBPyConnection, db_path: Path, *, verify_interval_s: float = 30.0,
        snapshot_min_rows: int | None = 50_000,
    ):
        self._connection = connection
        self._db_path = Path(db_path)
        self._verify_interval_s = verify_interval_s
        self._snapshot_min_rows = snapshot_min_rows
        self._state: SnapshotState | None = None  # None: nothing loaded
        self._verified_at = 0.0
        self._saved_rows = 0  # rows in the snapshot this process last wrote or read
        self._tried_snapshot = False
        self._tables: set[str] | None = None  # the history tables seen in the file, cached between syncs
        self._snapshot_attached = False
        self._reset_local()
        self._include_experiments = False
        self._connection.execute(SCOPES[False])

    def set_scope(self, *, include_experiments: bool) -> None:
        """Which rows the queries' `records` view holds: all, or only those outside experiments (the default)."""
        include_experiments = bool(include_experiments)
        if include_experiments != self._include_experiments:
            self._connection.execute(SCOPES[include_experiments])
            self._include_experiments = include_experiments

    @property
    def db_path(self) -> Path:
        """The SQLite file this model mirrors."""
        return self._db_path

    @contextmanager
    def attached(self) -> Iterator[bool]:
        """Attach the SQLite file read-only for the block; yields False when there is no history yet."""
        if not self._db_path.exists():
            yield False
            return
        check_history_file(self._db_path)
        path = str(self._db_path.absolute()).replace("'", "''")
        try:
            self._connection.execute(f"ATTACH '{path}' AS {ALIAS} (TYPE sqlite, READ_ONLY)")
        except duckdb.Error as error:
            raise connection_error(self._db_path, error) from None
        try:
            yield True
        finally:
            self._connection.execute(f"DETACH {ALIAS}")

    def sync(self) -> SyncResult:
        """Bring the table up to date with the file (attaching it for the duration of the call).

        Raises:
            RepositoryConnectionError: the file is not a readable SQLite database.
        """
        with self.attached() as present:
            return self.sync_attached() if present else self.clear()

    def sync_attached(self) -> SyncResult:
        """`sync` for a caller that already holds the file attached (see `attached`)."""
        try:
            probe = self._probe()
            if probe is None:
                return self.clear()
            restored = self._restore_snapshot()
            if restored:
                probe = self._probe(self._state.watermark)
            result = self._follow(*probe)
            return SyncResult("restore", result.rows, result.added) if restored and result.mode != "rebuild" else result
        except duckdb.ProgrammingError:
            raise  # a bug in the SQL here, not a problem with the file
        except duckdb.Error as error:
            if self.drop_damaged_snapshot():
                return self.sync_attached()  # a full load from the history this time
            raise connection_error(self._db_path, error) from None

    def drop_damaged_snapshot(self) -> bool:
        """After a read failed: when the on-disk snapshot this model reads is the damaged part, delete it
        (logging a warning) and forget what it held, so the next sync rebuilds from the history.

        Returns:
            True when the snapshot was damaged and dropped; False when it is not the cause (the error is
            then about the history file itself and must be reported as such).
        """
        if not self._snapshot_attached:
            return False
        error = snapshot.is_damaged(self._connection)
        if error is None:
            return False
        self._state, self._saved_rows = None, 0
        self._reset_local()  # detaches the snapshot
        snapshot.discard(snapshot.snapshot_path(self._db_path), error)
        return True

    def _follow(self, generation: str | None, max_id: int, uid: str | None) -> SyncResult:
        state = self._state
        if state is None or generation != state.generation or max_id < state.watermark or uid != state.uid:
            return self._rebuild()
        if time.monotonic() - self._verified_at >= self._verify_interval_s and not self._count_matches():
            return self._rebuild()
        if max_id == state.watermark:
            return SyncResult("unchanged", state.rows)
        return self._append()

    def _probe(self, watermark: int | None = None, *, retry: bool = True) -> tuple[str | None, int, str | None] | None:
        """(prune generation, max id, uid at the watermark), or None when the file has no history table."""
        if watermark is None:
            watermark = self._state.watermark if self._state is not None else 0
        if self._tables is None:
            self._tables = self._read_tables()
        if "prompt_history" not in self._tables:
            self._tables = None  # look again next time: the app may create it meanwhile
            return None
        generation = (
            "(SELECT value FROM app_settings WHERE key = 'prune_generation')" if "app_settings" in self._tables else "NULL"
        )
        sql = (
            f"SELECT {generation}, (SELECT coalesce(max(id), 0) FROM prompt_history), "
            f"(SELECT uid FROM prompt_history WHERE id = {int(watermark):d}), "
            "(SELECT user_version FROM pragma_user_version)"
        )
        try:
            row = self._sqlite(sql)[0]
        except duckdb.Error:
            self._tables = None  # the file changed under us (replaced, migrated): look at its tables again
            if not retry:
                raise
            return self._probe(watermark, retry=False)
        # A file replaced by one of a newer schema while this process runs is refused like any other.
        check_schema_version(self._db_path, int(row[3]), True)
        return row[0], int(row[1]), row[2]

    def _read_tables(self) -> set[str]:
        rows = self._sqlite(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('prompt_history', 'app_settings') "
            "UNION ALL SELECT 'user_version=' || user_version FROM pragma_user_version"
        )
        names = {row[0] for row in rows}
        version = next(int(name.partition("=")[2]) for name in names if name.startswith("user_version="))
        # Before any query names a column: a newer or never-migrated layout gets its own message.
        check_schema_version(self._db_path, version, "prompt_history" in names)
        return names

    def _count_matches(self) -> bool:
        # `+id` keeps SQLite off the rowid range (which reads every table page) and on a covering index.
        (count,) = self._sqlite(f"SELECT count(*) FROM prompt_history WHERE +id <= {self._state.watermark:d}")[0]
        self._verified_at = time.monotonic()
        return int(count) == self._state.rows

    def _rebuild(self) -> SyncResult:
        # A prune committed while the scan ran changes the generation: load again (the scan itself is one
        # SQLite statement, so it saw either all or none of that prune).
        for _ in range(3):
            generation = self._probe()[0]
            full_load(self._connection)
            if self._probe()[0] == generation:
                break
        self._connection.execute(f"DROP TABLE {LOCAL}")
        self._connection.execute(f"ALTER TABLE {TABLE}_loading RENAME TO {LOCAL}")
        self._use_local_only()
        self._state = self._measure(generation)
        self._verified_at = time.monotonic()
        logger.debug("read model rebuilt from %s: %d rows", self._db_path, self._state.rows)
        return SyncResult("rebuild", self._state.rows, self._state.rows)

    def _append(self) -> SyncResult:
        before = self._state.rows
        append_above(self._connection, self._state.watermark)
        self._state = self._measure(self._state.generation)
        return SyncResult("append", self._state.rows, self._state.rows - before)

    def _measure(self, generation: str | None) -> SnapshotState:
        watermark, rows = self._connection.execute(f"SELECT coalesce(max(id), 0), count(*) FROM {ALL}").fetchone()
        uid = self._sqlite(f"SELECT uid FROM prompt_history WHERE id = {int(watermark):d}")
        return SnapshotState(generation, int(watermark), int(rows), uid[0][0] if uid else None)

    def clear(self) -> SyncResult:
        """Empty the table (there is no history yet)."""
        if self._state is not None:
            self._reset_local()
        self._state = None
        return SyncResult("missing", 0)

    def _reset_local(self) -> None:
        self._connection.execute(EMPTY_LOCAL)
        self._use_local_only()

    def _use_local_only(self) -> None:
        if self._snapshot_attached:
            snapshot.detach(self._connection)
            self._snapshot_attached = False
        self._connection.execute(f"CREATE OR REPLACE VIEW {ALL} AS SELECT * FROM {LOCAL}")

    def _restore_snapshot(self) -> bool:
        # Only once per process, before the first load: afterwards this process's own table is fresher.
        if self._tried_snapshot or self._state is not None or self._snapshot_min_rows is None:
            return False
        self._tried_snapshot = True
        state = snapshot.attach(self._connection, snapshot.snapshot_path(self._db_path))
        if state is None:
            return False
        # Read in place (compressed, on disk) rather than copied: restoring 1M rows costs milliseconds.
        self._snapshot_attached = True
        self._connection.execute(EMPTY_LOCAL)
        self._connection.execute(
            f"CREATE OR REPLACE VIEW {ALL} AS SELECT * FROM {snapshot.ALIAS}.{snapshot.TABLE} UNION ALL SELECT * FROM {LOCAL}"
        )
        self._state, self._saved_rows = state, state.rows
        self._verified_at = float("-inf")  # check the row count on this first sync
        return True

    def verify(self) -> SyncResult | None:
        """Compare the row count with the file now and rebuild on a mismatch (what `sync` does every
        `verify_interval_s`; the worker calls this when idle and sets that interval to infinity)."""
        with self.attached() as present:
            if not present or self._state is None:
                return None
            return None if self._count_matches() else self._rebuild()

    def save_snapshot_if_due(self) -> bool:
        """Write the snapshot when the table is large and has grown by 10% (or was rebuilt) since the last one."""
        state = self._state
        if self._snapshot_min_rows is None or state is None or state.rows < self._snapshot_min_rows:
            return False
        if self._saved_rows and abs(state.rows - self._saved_rows) < max(self._saved_rows // 10, 1):
            return False
        saved = snapshot.save(self._connection, snapshot.snapshot_path(self._db_path), ALL, state)
        if saved:
            self._saved_rows = state.rows
        return saved

    def _sqlite(self, sql: str) -> list[tuple]:
        # Runs inside SQLite (its indexes apply); the result is small and fetched whole.
        # The SQL is inlined: a bound parameter would make DuckDB import pandas (see `literal`).
        return self._connection.execute(f"SELECT * FROM sqlite_query('{ALIAS}', {literal(sql)}) AS t").fetchall()
