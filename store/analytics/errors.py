"""The read side's errors: one module without DuckDB, so an error that crosses from the analytics worker
to the dashboard or the CLI is unpickled without importing DuckDB in a process that opens the file through
`sqlite3`."""

from store.errors import RepositoryError


class AnalyticsQueryError(ValueError):
    """An analytics query was given an invalid argument (a reversed range, an unknown metric or bucket)."""


class AnalyticsWorkerError(RepositoryError):
    """The analytics worker process failed, died twice in a row, or did not answer in time."""


class ExportWriteError(RepositoryError):
    """The CSV report file cannot be written (no such directory, no permission, a full disk)."""


class ExportTooLarge(AnalyticsQueryError):
    """A download would hold more rows than its limit; use `prompt-improver export` for large ranges."""
