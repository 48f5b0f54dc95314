"""The analytics' view of a PostgreSQL history: DuckDB attaches the database read-only through its
postgres extension (loaded from the pinned wheel, never downloaded) and the same queries run unchanged.

It stands in for `store.analytics.read_model.ReadModel` (same methods, used by `store.analytics.engine.Analytics`):
- `records`, which the aggregate queries read, is a native DuckDB table kept in step with the server, as
  for SQLite. Measured at 1M rows (bench/bench_postgres.py): stats over 30 days took 5.0 s through the
  attached table (DuckDB did not push the range down usefully) and 0.95 s as SQL in PostgreSQL itself,
  but 98 ms on the native copy, which loads in 1.7 s once. So the read model stays.
  Ids come from a sequence, and concurrent transactions may commit them out of order: each sync re-reads
  the last `REREAD_IDS` ids below the watermark and adds those it lacks; a changed `prune_generation` or
  (every `verify_interval_s`) a row count that differs from the server's rebuilds the table.
- `prompt_history` is a view with SQLite's text shapes (ISO-8601 timestamps, JSON text, ASCII-case-blind
  LIKE), and `sqlite_query(alias, sql)` a macro running that SQL over it, so the record queries written for
  SQLite (History page, CSV export) read PostgreSQL the same way. The sqlite extension is not loaded here.

The password reaches DuckDB as a secret, never inside a statement, so no DuckDB error can show it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urlsplit

import duckdb

from store.errors import AnalyticsUnavailable, RepositoryConnectionError
from store.postgres.schema import SCHEMA_VERSION
from store.postgres.urls import mask_url
from store.analytics.read_model import ALIAS, TABLE, SyncResult

LOCAL = f"{TABLE}_local"

WHEEL_PACKAGE = "duckdb_extension_postgres_scanner"
_CONFIG = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
# PostgreSQL's rows in SQLite's text shapes (see the module docstring), over `prompt_history` or a query.
SHAPED_COLUMNS = """
    id, uid, strftime(CAST(timestamp AS TIMESTAMP), '%Y-%m-%dT%H:%M:%S.%f+00:00') AS timestamp,
    original_idea COLLATE NOCASE AS original_idea, context, improved_prompt COLLATE NOCASE AS improved_prompt,
    role, directive, framework, CAST(guardrails AS VARCHAR) AS guardrails, backend, confidence, reasoning,
    latency_ms, model_version, program_version, quality, experiment_id, metric_version
"""
_SQLITE_SHAPED = f"CREATE OR REPLACE VIEW prompt_history AS SELECT {SHAPED_COLUMNS} FROM {ALIAS}.prompt_history"
_RECORD_COLUMNS = (
    "id, uid, timestamp, original_idea, context, improved_prompt, role, directive, framework, guardrails, backend, "
    "confidence, reasoning, latency_ms, model_version, program_version, quality, experiment_id, metric_version"
)


def records_by_id(ids: list[int]) -> str:
    """DuckDB SQL yielding the shaped rows (the `prompt_history` view's) of these ids, read by a query
    PostgreSQL runs on its primary key: through the attached table the scanner reads every page (80 ms
    for a page of 50 at 1M rows)."""
    remote = f"SELECT {_RECORD_COLUMNS} FROM prompt_history WHERE id IN ({', '.join(str(int(i)) for i in ids)})"
    return f"SELECT {SHAPED_COLUMNS} FROM postgres_query('{ALIAS}', '{_quote(remote)}')"


def records_sql_remote(condition: str, order: str) -> str:
    """DuckDB SQL reading the records PostgreSQL finds with `condition` (its SQL), in its `order`, unshaped."""
    remote = f"SELECT {_RECORD_COLUMNS} FROM prompt_history WHERE {condition} ORDER BY {order}"
    return f"postgres_query('{ALIAS}', '{_quote(remote)}')"


_COLUMNS = (
    "id, CAST(timestamp AS TIMESTAMP) AS ts, backend, model_version AS model, framework, role, "
    "confidence, quality, latency_ms, metric_version, experiment_id"
)
_REMOTE_COLUMNS = (
    "id, timestamp, backend, model_version, framework, role, confidence, quality, latency_ms, metric_version, "
    "experiment_id"
)
REREAD_IDS = 1_000
_PROBE = (
    "SELECT (SELECT value FROM app_settings WHERE key = 'prune_generation'), "
    "(SELECT coalesce(max(id), 0) FROM prompt_history)"
)
_MACROS = (
    # SQLite's quote() of a REAL keeps every digit; DuckDB's shortest round-trip text does too.
    "CREATE OR REPLACE MACRO quote(x) AS CAST(x AS VARCHAR)",
    "CREATE OR REPLACE MACRO sqlite_query(alias, sql) AS TABLE SELECT * FROM query(sql)",
    # PostgreSQL's text is valid UTF-8 already (the server checks it); SQLite's may not be (store/analytics/utf8_text.py).
    "CREATE OR REPLACE MACRO utf8_safe(x) AS x",
)


def extension_path() -> Path | None:
    """The postgres extension file of `duckdb-extension-postgres-scanner` for this DuckDB, if installed."""
    try:
        from importlib.resources import files

        package = files(WHEEL_PACKAGE)
    except ModuleNotFoundError:
        return None
    return Path(str(package / "extensions" / f"v{duckdb.__version__}" / "postgres_scanner.duckdb_extension"))


def connect_postgres_duckdb(url: str) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the postgres extension loaded from the wheel and a secret for `url`.

    Raises:
        AnalyticsUnavailable: the wheel is missing or its file does not load (the fix is named).
    """
    path = extension_path()
    if path is None or not path.is_file():
        raise AnalyticsUnavailable(
            f"DuckDB's postgres extension is not installed ({path or WHEEL_PACKAGE}); fix: pip install "
            f"duckdb-extension-postgres-scanner=={duckdb.__version__} (the version must equal duckdb's)"
        )
    connection = duckdb.connect(":memory:", config=dict(_CONFIG))
    try:
        connection.execute("SET enable_progress_bar = false")
        connection.execute("SET TimeZone = 'UTC'")  # timestamptz -> the naive UTC wall time the queries expect
        connection.execute(f"LOAD '{_quote(str(path))}'")
        parts = urlsplit(url)
        options = {
            "HOST": parts.hostname or "localhost", "PORT": str(parts.port or 5432),
            "DATABASE": unquote(parts.path.lstrip("/")) or os.environ.get("PGDATABASE", ""),
            "USER": unquote(parts.username or ""), "PASSWORD": unquote(parts.password or ""),
        }
        body = ", ".join(f"{key} '{_quote(value)}'" for key, value in options.items() if value)
        connection.execute(f"CREATE SECRET history_server (TYPE postgres, {body})")
    except duckdb.Error as error:
        connection.close()
        raise AnalyticsUnavailable(f"DuckDB's postgres extension cannot be loaded: {str(error).splitlines()[0]}") from None
    return connection


def _quote(text: str) -> str:
    return text.replace("'", "''")


class PostgresSource:
    """The analytics' read side of a PostgreSQL history (the `ReadModel` interface; see the module docstring)."""

    def __init__(self, connection: duckdb.DuckDBPyConnection, url: str, *, verify_interval_s: float = 30.0) -> None:
        self._connection = connection
        self._url = url
        self._verify_interval_s = verify_interval_s
        self._views = False
        self._attached = False
        self._generation: str | None = None
        self._watermark = 0
        self._verified_at = 0.0
        self._loaded = False
        self._include_experiments = False

    def set_scope(self, *, include_experiments: bool) -> None:
        """Which rows the queries' `records` view holds: all, or only those outside experiments (the default)."""
        include_experiments = bool(include_experiments)
        if include_experiments != self._include_experiments:
            self._include_experiments = include_experiments
            self._scope()

    def _scope(self) -> None:
        # As the SQLite read model's scopes: experiment runs are left out of `records` unless asked for.
        where = "" if self._include_experiments else " WHERE experiment_id IS NULL"
        self._connection.execute(f"CREATE OR REPLACE VIEW {TABLE} AS SELECT * FROM {LOCAL}{where}")

    @property
    def db_path(self) -> Path:
        """The database, for messages: its URL with the password masked."""
        return Path(mask_url(self._url))

    def _error(self, error: Exception) -> RepositoryConnectionError:
        return RepositoryConnectionError(
            f"cannot read the history at {mask_url(self._url)} for analytics: {str(error).splitlines()[0]} "
            "(check that the server runs; `prompt-improver doctor` checks DATABASE_URL)"
        )

    @contextmanager
    def attached(self) -> Iterator[bool]:
        """The database attached read-only (False when it has no history table yet).

        Unlike an SQLite file (attached per call so no read transaction blocks a checkpoint), the server
        stays attached between calls: the aggregate queries read it after this block too. A connection
        the server dropped (a restart) is replaced by attaching again.
        """
        try:
            present = self._probe()
        except duckdb.Error:
            self._detach()
            try:
                present = self._probe()
            except duckdb.Error as error:
                self._detach()
                raise self._error(error) from None
        if present and not self._views:
            for statement in (*_MACROS, _SQLITE_SHAPED):
                self._connection.execute(statement)
            self._views = True
        yield present

    def _probe(self) -> bool:
        if not self._attached:
            self._connection.execute(f"ATTACH '' AS {ALIAS} (TYPE postgres, SECRET history_server, READ_ONLY)")
            self._attached = True
        return self._version() is not None

    def _detach(self) -> None:
        if self._attached:
            self._connection.execute(f"DETACH {ALIAS}")
            self._attached = False

    def _version(self) -> int | None:
        (names,) = self._remote(
            "SELECT string_agg(table_name, ',') FROM information_schema.tables WHERE table_schema = current_schema()"
        )
        if "prompt_improver_schema" not in (names[0] or "").split(","):
            return None
        ((version,),) = self._remote("SELECT version FROM prompt_improver_schema")
        if version > SCHEMA_VERSION:
            raise RepositoryConnectionError(
                f"{mask_url(self._url)} has schema version {version}, newer than the {SCHEMA_VERSION} this version "
                "of prompt-improver knows; upgrade prompt-improver to read it"
            )
        return int(version)

    def _remote(self, sql: str) -> list[tuple]:
        # Runs inside PostgreSQL; the SQL is inlined (a bound parameter would make DuckDB import pandas).
        return self._connection.execute(f"SELECT * FROM postgres_query('{ALIAS}', '{_quote(sql)}')").fetchall()

    def sync(self) -> SyncResult:
        """Nothing to bring up to date: the queries read the server directly. Reports the row count."""
        with self.attached() as present:
            return self.sync_attached() if present else self.clear()

    def sync_attached(self) -> SyncResult:
        """`sync` for a caller that already holds the database attached."""
        try:
            ((generation, max_id),) = self._remote(_PROBE)
            if not self._loaded or generation != self._generation or max_id < self._watermark:
                return self._rebuild()
            if time.monotonic() - self._verified_at >= self._verify_interval_s:
                ((count,),) = self._remote("SELECT count(*) FROM prompt_history")
                self._verified_at = time.monotonic()
                if int(count) != self._rows():
                    return self._rebuild()
            return self._append(int(max_id))
        except duckdb.Error as error:
            raise self._error(error) from None

    def _rows(self) -> int:
        return int(self._connection.execute(f"SELECT count(*) FROM {LOCAL}").fetchone()[0])

    def _rebuild(self) -> SyncResult:
        # A prune committed while the copy ran changes the generation: copy again.
        for _ in range(3):
            ((generation, _max_id),) = self._remote(_PROBE)
            self._connection.execute(f"CREATE OR REPLACE TABLE {LOCAL} AS SELECT {_COLUMNS} FROM {ALIAS}.prompt_history")
            if self._remote(_PROBE)[0][0] == generation:
                break
        self._scope()
        self._generation, self._loaded, self._verified_at = generation, True, time.monotonic()
        self._watermark = int(self._connection.execute(f"SELECT coalesce(max(id), 0) FROM {LOCAL}").fetchone()[0])
        rows = self._rows()
        return SyncResult("rebuild", rows, rows)

    def _append(self, max_id: int) -> SyncResult:
        before = self._rows()
        low = max(0, self._watermark - REREAD_IDS)
        # The new rows are read by a query PostgreSQL runs itself, on the primary key: through the attached
        # table DuckDB's scanner reads every page in ctid ranges, id filter or not (1.3 s per call at 1M
        # rows, paid by every page and search; bench/bench_postgres.py).
        remote = f"SELECT {_REMOTE_COLUMNS} FROM prompt_history WHERE id > {low:d}"
        self._connection.execute(
            f"INSERT INTO {LOCAL} SELECT {_COLUMNS} FROM postgres_query('{ALIAS}', '{_quote(remote)}') "
            f"WHERE id NOT IN (SELECT id FROM {LOCAL} WHERE id > {low:d})"
        )
        self._watermark = max(self._watermark, max_id)
        rows = self._rows()
        return SyncResult("append" if rows > before else "unchanged", rows, rows - before)

    def clear(self) -> SyncResult:
        """No history table yet: queries see an empty `records`."""
        self._connection.execute(
            f"CREATE OR REPLACE TABLE {LOCAL} (id BIGINT, ts TIMESTAMP, backend VARCHAR, model VARCHAR, "
            "framework VARCHAR, role VARCHAR, confidence DOUBLE, quality DOUBLE, latency_ms DOUBLE, "
            "metric_version INTEGER, experiment_id VARCHAR)"
        )
        self._scope()
        self._views = self._loaded = False
        return SyncResult("missing", 0)

    def save_snapshot_if_due(self) -> bool:
        """No snapshot: there is no local copy to keep."""
        return False
