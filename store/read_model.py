"""The analytics read model: a native DuckDB table holding the analytic columns of `prompt_history`.

Why: DuckDB's sqlite scanner does not push a date range down into SQLite, so every query over a plain
ATTACH reads the whole table (about 1 s per query at 1M rows here); a native table answers in a few
milliseconds. The table is filled once (one single-threaded scan: a consistent snapshot) and then kept
fresh before every query by copying only the rows above an id watermark, which `sqlite_query()` fetches
through SQLite's rowid index in about a millisecond. AUTOINCREMENT ids never come back and SQLite
commits one writer at a time, so rows at or below the watermark only change by deletion: the store
bumps `app_settings.prune_generation` in the same transaction as every retention delete, and a changed
generation, a maximum id below the watermark or (checked every `verify_interval_s`) a row count that no
longer matches all trigger a rebuild.

The SQLite file is attached READ_ONLY for the length of one sync or query and detached afterwards, and
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

from store.errors import RepositoryConnectionError

logger = logging.getLogger(__name__)

ALIAS = "history"  # the name the SQLite file is attached under
TABLE = "records"
_COLUMNS = "id, ts, backend, model, framework, role, confidence, quality, latency_ms"
_EMPTY_TABLE = (
    f"CREATE OR REPLACE TABLE {TABLE} (id BIGINT, ts TIMESTAMP, backend VARCHAR, model VARCHAR, "
    "framework VARCHAR, role VARCHAR, confidence DOUBLE, quality DOUBLE, latency_ms DOUBLE)"
)
# The stored text always reads `2026-01-03T10:15:42.123456+00:00`; the first 26 characters are the UTC
# wall time, kept as a naive TIMESTAMP (UTC by convention) so bucketing needs no time-zone support.
_FULL_LOAD = f"""
    CREATE OR REPLACE TABLE {TABLE}_loading AS
    SELECT id, CAST(substr(timestamp, 1, 26) AS TIMESTAMP) AS ts, backend, model_version AS model,
           framework, role, confidence, quality, latency_ms
    FROM {ALIAS}.prompt_history
"""
# sqlite_query() returns text; quote() renders a REAL with all 17+ significant digits, so the cast back
# to DOUBLE is exact and an appended row equals the same row read by a full load.
_APPEND_SQLITE = (
    "SELECT id, timestamp, backend, model_version, framework, role, "
    "CASE WHEN confidence IS NULL THEN NULL ELSE quote(confidence) END, "
    "CASE WHEN quality IS NULL THEN NULL ELSE quote(quality) END, "
    "CASE WHEN latency_ms IS NULL THEN NULL ELSE quote(latency_ms) END "
    "FROM prompt_history WHERE id > {watermark:d} ORDER BY id"
)
_APPEND = f"""
    INSERT INTO {TABLE}
    SELECT CAST(c0 AS BIGINT), CAST(substr(c1, 1, 26) AS TIMESTAMP), c2, c3, c4, c5,
           CAST(c6 AS DOUBLE), CAST(c7 AS DOUBLE), CAST(c8 AS DOUBLE)
    FROM sqlite_query('{ALIAS}', ?) AS t(c0, c1, c2, c3, c4, c5, c6, c7, c8)
"""
_PROBE = (
    "SELECT (SELECT value FROM app_settings WHERE key = 'prune_generation'), "
    "(SELECT coalesce(max(id), 0) FROM prompt_history)"
)


@dataclass(frozen=True, slots=True)
class SyncResult:
    """What one freshness sync did: `mode` is 'missing', 'unchanged', 'append' or 'rebuild'."""

    mode: str
    rows: int
    added: int = 0


class ReadModel:
    """The `records` table in `connection`, mirroring the history in `db_path`. Never writes to the file.

    Not thread-safe: one owner (the analytics worker's loop, or a CLI command) calls it.
    """

    def __init__(self, connection: duckdb.DuckDBPyConnection, db_path: Path, *, verify_interval_s: float = 10.0):
        self._connection = connection
        self._db_path = Path(db_path)
        self._verify_interval_s = verify_interval_s
        self._loaded = False
        self._generation: str | None = None
        self._watermark = 0
        self._rows = 0
        self._verified_at = 0.0
        connection.execute(_EMPTY_TABLE)

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
            if not self._has_history_table():
                return self.clear()
            generation, max_id = self._probe()
            if not self._loaded or generation != self._generation or max_id < self._watermark:
                return self._rebuild()
            if time.monotonic() - self._verified_at >= self._verify_interval_s and not self._count_matches():
                return self._rebuild()
            if max_id == self._watermark:
                return SyncResult("unchanged", self._rows)
            return self._append()
        except duckdb.ProgrammingError:
            raise  # a bug in the SQL above, not a problem with the file
        except duckdb.Error as error:
            raise connection_error(self._db_path, error) from None

    def _has_history_table(self) -> bool:
        rows = self._sqlite("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'prompt_history'")
        return bool(rows)

    def _probe(self) -> tuple[str | None, int]:
        has_settings = self._sqlite("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'app_settings'")
        sql = _PROBE if has_settings else "SELECT NULL, (SELECT coalesce(max(id), 0) FROM prompt_history)"
        generation, max_id = self._sqlite(sql)[0]
        return generation, int(max_id)

    def _count_matches(self) -> bool:
        (count,) = self._sqlite(f"SELECT count(*) FROM prompt_history WHERE id <= {self._watermark:d}")[0]
        self._verified_at = time.monotonic()
        return int(count) == self._rows

    def _rebuild(self) -> SyncResult:
        # A prune committed while the scan ran changes the generation: load again (the scan itself is one
        # SQLite statement, so it saw either all or none of that prune).
        for _ in range(3):
            generation, _max_id = self._probe()
            self._connection.execute(_FULL_LOAD)
            if self._probe()[0] == generation:
                break
        self._connection.execute(f"DROP TABLE {TABLE}")
        self._connection.execute(f"ALTER TABLE {TABLE}_loading RENAME TO {TABLE}")
        watermark, rows = self._connection.execute(f"SELECT coalesce(max(id), 0), count(*) FROM {TABLE}").fetchone()
        self._loaded, self._generation, self._watermark, self._rows = True, generation, watermark, rows
        self._verified_at = time.monotonic()
        logger.debug("read model rebuilt from %s: %d rows, watermark %d", self._db_path, rows, watermark)
        return SyncResult("rebuild", rows, rows)

    def _append(self) -> SyncResult:
        before = self._rows
        self._connection.execute(_APPEND, [_APPEND_SQLITE.format(watermark=self._watermark)])
        watermark, rows = self._connection.execute(
            f"SELECT coalesce(max(id), 0), count(*) FROM {TABLE}"
        ).fetchone()
        self._watermark, self._rows = watermark, rows
        return SyncResult("append", rows, rows - before)

    def clear(self) -> SyncResult:
        """Empty the table (there is no history yet)."""
        if self._loaded or self._rows:
            self._connection.execute(_EMPTY_TABLE)
        self._loaded, self._generation, self._watermark, self._rows = False, None, 0, 0
        return SyncResult("missing", 0)

    def _sqlite(self, sql: str) -> list[tuple]:
        # Runs inside SQLite (its indexes apply); the result is small and fetched whole.
        return self._connection.execute(f"SELECT * FROM sqlite_query('{ALIAS}', ?)", [sql]).fetchall()


def connection_error(db_path: Path, error: duckdb.Error) -> RepositoryConnectionError:
    first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
    return RepositoryConnectionError(
        f"cannot read the history database {db_path} for analytics: {first_line} "
        "(check that the path is a prompt-improver SQLite database; `prompt-improver doctor` checks it)"
    )
