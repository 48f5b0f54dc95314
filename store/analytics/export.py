"""`prompt-improver export` of the records: CSV (neutralised, see `store.analytics.reports`) or Parquet, with progress.

The CSV is one DuckDB `COPY`; with a progress callback a thread reports the file's growth against an
estimate (writing it in day chunks and appending them cost twice the time at 1M records). Parquet is one `COPY`
(a Parquet file cannot be appended to) and keeps every value exactly as stored: it is read by
analysis tools, not spreadsheets, so text is not prefixed with the CSV's formula guard.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path

from store import leftovers
from store.analytics.queries import date_range
from store.analytics.ranges import DateRange, where
from store.analytics.errors import AnalyticsQueryError
from store.analytics.read_model import TABLE
from store.analytics.records import RECORD_COLUMNS
from store.analytics.reports import CSV_OPTIONS, PARQUET_OPTIONS, copy_to, neutralised, records_sql, write_csv

FORMATS = ("csv", "parquet")
_SAMPLE_ROWS = 1_000
_POLL_S = 0.25
_BEFORE_DONE = 0.99  # an estimate: the bar waits at 99% rather than claim the end before the COPY ends

Progress = Callable[[float, int], None]  # (share written, records written so far: both estimates until 1.0)


def export_records(
    con, path: Path, start: date | None = None, end: date | None = None, *, backend=None, model=None,
    min_confidence: float | None = None, text: str | None = None, file_format: str = "csv",
    progress: Progress | None = None, include_experiments: bool = False,
) -> int:
    """Write every column of the matching records (oldest first) to `path`; return the row count. Records
    of experiment runs are left out unless `include_experiments`.

    Raises:
        AnalyticsQueryError: an unknown `file_format`.
        ExportWriteError: the file cannot be written.
    """
    if file_format not in FORMATS:
        raise AnalyticsQueryError(f"format must be one of {', '.join(FORMATS)}, got {file_format!r}")
    path = Path(path)
    filters = dict(
        backend=backend, model=model, min_confidence=min_confidence, text=text, include_experiments=include_experiments
    )
    rng = date_range(con, start, end)
    if file_format == "parquet":
        sql, params = records_sql(con, rng, **filters)
        rows = copy_to(con, sql, params, path, PARQUET_OPTIONS, "Parquet file")
    elif progress is None or rng is None:
        rows = write_csv(con, *records_sql(con, rng, **filters), path)
    else:
        rows = _csv_with_progress(con, path, rng, filters, progress)
    if progress is not None:
        progress(1.0, rows)
    return rows


def _csv_with_progress(con, path: Path, rng: DateRange, filters: dict, progress: Progress) -> int:
    """One COPY (as fast as without progress), while a thread reports the growing file against an estimate:
    the records in the range (counted on the read model; a text search is not counted, so the bar then ends
    early) times the CSV line length of a 1,000-record sample."""
    sql, params = records_sql(con, rng, **filters)
    expected = expected_rows(
        con, rng, backend=filters["backend"], model=filters["model"], min_confidence=filters["min_confidence"]
    )
    return copy_csv_with_progress(con, neutralised(con, sql, params), params, path, expected, progress)


def expected_rows(con, rng: DateRange | None, *, backend=None, model=None, min_confidence=None) -> int:
    """The records of the range and filters in the read model (a text search is not counted: an estimate)."""
    if rng is None:
        return 0
    clause, _ = where(rng, backend, model, min_confidence=min_confidence)
    return int(con.execute(f"SELECT count(*) FROM {TABLE} WHERE {clause}").fetchone()[0])


def copy_csv_with_progress(con, select: str, params: list, path: Path, expected: int, progress: Progress) -> int:
    """`copy_to` of the (already neutralised) `select` as CSV, reporting the file's growth against `expected`
    rows times the CSV line length of a 1,000-row sample; return the rows written."""
    # The CSV line length of a sample, from the text of its cells (quotes are not counted: an estimate).
    cells = ", ".join(f'CAST("{name}" AS VARCHAR)' for name in RECORD_COLUMNS)
    (per_row,) = con.execute(
        f"SELECT avg(strlen(concat_ws(',', {cells})) + 2) FROM (SELECT * FROM ({select}) LIMIT {_SAMPLE_ROWS})",
        params,
    ).fetchone()
    per_row = float(per_row or 0.0)
    growing = leftovers.temporary_path(path.absolute())
    finished = threading.Event()

    def report() -> None:
        while not finished.wait(_POLL_S):
            try:
                written = growing.stat().st_size
            except OSError:
                continue
            if per_row and expected:
                progress(min(_BEFORE_DONE, written / (per_row * expected)), int(written / per_row))

    watcher = threading.Thread(target=report, name="export-progress", daemon=True)
    watcher.start()
    try:
        return copy_to(con, select, params, path, CSV_OPTIONS)
    finally:
        finished.set()
        watcher.join()
