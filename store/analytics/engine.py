"""Analytics over the SQLite history, in the process that owns one DuckDB instance.

Use it only in a process that never opens the history file through Python's `sqlite3` (DuckDB's sqlite
extension carries its own SQLite; two copies in one process do not see each other's locks): the
dashboard goes through `AnalyticsWorker`, and the CLI's `stats`/`export` use this class directly.

Every call first syncs the read model with the file (cheap: a probe, and the new rows if any), so a
record saved is visible to the next call; the file is attached read-only for the call and detached
after, and nothing is ever written to it. Dates are UTC days, both ends inclusive.
"""

from __future__ import annotations

import logging
import math
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType

import duckdb

from store.analytics import calibration as analytics_calibration
from store.analytics import histograms as analytics_histograms
from store.analytics import page as analytics_page
from store.analytics import queries as analytics_queries
from store.analytics import download as record_download
from store.analytics import export as record_export
from store.analytics import records as record_queries
from store.analytics import reports
from store.analytics import text_search
from store.analytics.api import AnalyticsApi, ExportedFile
from store.analytics.history_file import connection_error, is_history_file
from store.analytics.errors import AnalyticsQueryError
from store.analytics.extension import connect_duckdb
from store.postgres.urls import is_postgres_url
from store.analytics.read_model import ReadModel, SyncResult

logger = logging.getLogger(__name__)

# Methods the worker may call by name: (function, needs the SQLite file attached during the query).
QUERIES: Mapping[str, tuple[Callable, bool]] = MappingProxyType({
    "kpis": (analytics_queries.kpis, False),
    "statistics": (analytics_queries.statistics, False),
    "timeseries": (analytics_queries.timeseries, False),
    "backend_distribution": (analytics_queries.backend_distribution, False),
    "model_distribution": (analytics_queries.model_distribution, False),
    "top_frameworks": (analytics_queries.top_frameworks, False),
    "top_roles": (analytics_queries.top_roles, False),
    "unpaired_samples": (analytics_queries.unpaired_samples, False),
    "histograms": (analytics_histograms.histograms, False),
    "calibration": (analytics_calibration.calibration, False),
    "analytics_page": (analytics_page.analytics_page, False),
    "history_page": (record_queries.history_page, True),
    "search_status": (text_search.search_status, True),
    "export_records": (record_export.export_records, True),
    "export_summary": (reports.export_summary, False),
    "records_csv": (reports.records_csv, True),
    "records_file": (record_download.records_file, True),
    "summary_csv": (reports.summary_csv, False),
})


# Queries that read whole records from SQLite rather than the read model (they take `include_experiments`).
_SQLITE_RECORDS = frozenset({"export_records", "records_csv", "records_file"})


class Analytics(AnalyticsApi):
    """Read-only analytics over the history in `db_path` (which need not exist yet: results are empty).

    Not thread-safe (one DuckDB connection); the worker serialises calls. Close it when done.

    Raises (from every query):
        AnalyticsUnavailable: DuckDB's sqlite extension cannot be loaded (raised by the constructor).
        RepositoryConnectionError: the file exists but is not a readable history database.
        AnalyticsQueryError: an argument is invalid (a reversed range, an unknown metric).
    """

    def __init__(
        self, db_path: Path | str, *, verify_interval_s: float = 30.0, snapshot_min_rows: int | None = 50_000,
        verify_when_idle: bool = False,
    ):
        # With `verify_when_idle` (the worker) the periodic row count check runs in `housekeeping`, off
        # the reply path, rather than inside the sync of whichever query comes due.
        self._verify_interval_s = verify_interval_s
        self._verified_at = time.monotonic()
        # (0 keeps checking on every call, on the reply path: what a test of a changing file asks for.)
        self._verify_when_idle = verify_when_idle and verify_interval_s > 0 and not is_postgres_url(db_path)
        if is_postgres_url(db_path):  # a team's history on PostgreSQL (DATABASE_URL)
            from store.analytics.postgres_source import PostgresSource, connect_postgres_duckdb

            self._connection = connect_postgres_duckdb(db_path)
            self._model = PostgresSource(self._connection, db_path, verify_interval_s=verify_interval_s)
        else:
            self._connection = connect_duckdb()
            self._model = ReadModel(
                self._connection, Path(db_path), snapshot_min_rows=snapshot_min_rows,
                verify_interval_s=math.inf if self._verify_when_idle else verify_interval_s,
            )
        self._first_sync: SyncResult | None = None
        self._last_sync: SyncResult | None = None

    def close(self) -> None:
        """Release the DuckDB instance."""
        self._connection.close()

    def __enter__(self) -> Analytics:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def sync(self) -> SyncResult:
        """Bring the read model up to date now (each query does this itself)."""
        return self._remember(self._model.sync())

    def status(self) -> dict:
        """How the read model was first filled (`restore` from the snapshot, or `rebuild`) and its size now."""
        first, last = self._first_sync, self._last_sync
        return {
            "db_path": str(self._model.db_path),
            "first_sync": first.mode if first else None,
            "last_sync": last.mode if last else None,
            "rows": last.rows if last else 0,
        }

    def _remember(self, result: SyncResult) -> SyncResult:
        if self._first_sync is None and result.mode != "missing":
            self._first_sync = result
        self._last_sync = result
        return result

    def housekeeping(self) -> None:
        """Work that can wait until a reply is out: refresh the on-disk snapshot of a large read model, and
        (with `verify_when_idle`) the periodic row count check."""
        self._model.save_snapshot_if_due()
        if self._verify_when_idle and time.monotonic() - self._verified_at >= self._verify_interval_s:
            self._remember_verified(self._model.verify())

    def _remember_verified(self, rebuilt: SyncResult | None) -> None:
        self._verified_at = time.monotonic()
        if rebuilt is not None:
            self._remember(rebuilt)

    def _call(self, name: str, *args, **kwargs):
        """Run the query `name` (a key of `QUERIES`) after a freshness sync."""
        if name == "status":
            return self.status()
        include_experiments = kwargs.pop("include_experiments", False)
        self._model.set_scope(include_experiments=include_experiments)  # what every query of `records` sees
        if name in _SQLITE_RECORDS:  # whole records come from SQLite: the same rule, applied there
            kwargs["include_experiments"] = include_experiments
        function, needs_file = QUERIES[name]
        target = (args[0] if args else kwargs.get("path")) if name in ("export_records", "export_summary") else None
        if target is not None and is_history_file(Path(target), self._model.db_path):
            raise AnalyticsQueryError(
                f"{target} is the history database {self._model.db_path} (or one of its files); writing the CSV "
                "there would destroy the history: name another file"
            )
        try:
            return self._query(name, function, needs_file, args, kwargs)
        except _SnapshotDropped:  # the next sync rebuilds the read model from the history: ask again
            self._first_sync = None
            return self._query(name, function, needs_file, args, kwargs)

    def _query(self, name: str, function: Callable, needs_file: bool, args: tuple, kwargs: dict):
        with self._model.attached() as present:
            self._remember(self._model.sync_attached() if present else self._model.clear())
            if needs_file:
                return self._run(function, args, kwargs) if present else _without_file(name, args, kwargs)
        # Aggregates read only the native table: the file is already detached.
        return self._run(function, args, kwargs)

    def _run(self, function: Callable, args: tuple, kwargs: dict):
        try:
            return function(self._connection, *args, **kwargs)
        except duckdb.ProgrammingError:
            raise  # a bug in a query, not a problem with the file
        except duckdb.Error as error:
            # A damaged snapshot (a disposable cache) is not a damaged history: drop it and rebuild.
            if self._model.drop_damaged_snapshot():
                raise _SnapshotDropped from None
            raise connection_error(self._model.db_path, error) from None


class _SnapshotDropped(Exception):
    """The on-disk snapshot was damaged and has been dropped; the query is asked again (never leaves this module)."""


def _without_file(name: str, args: tuple, kwargs: dict):
    # No database yet: nothing to list or export, and SQLite must not be touched.
    if name == "history_page":
        return record_queries.empty_records(), 0
    if name == "search_status":
        return {"indexed": None}
    if kwargs.get("file_format", "csv") != "csv":
        raise AnalyticsQueryError(f"there is no history at the database path yet: no {kwargs['file_format']} to write")
    header = ",".join(record_queries.RECORD_COLUMNS) + "\r\n"
    if name == "records_csv":
        return header.encode("utf-8")
    if name == "records_file":
        exported = ExportedFile(Path(tempfile.mkdtemp(prefix=record_download.DIRECTORY_PREFIX)) / "records.csv", 0)
        exported.path.write_text(header, encoding="utf-8", newline="")
        if kwargs.get("progress") is not None:
            kwargs["progress"](1.0, 0)
        return exported
    Path(args[0]).write_text(header, encoding="utf-8", newline="")
    return 0
