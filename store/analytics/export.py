"""`prompt-improver export` of the records: CSV (neutralised, see `store.analytics.reports`) or Parquet, with progress.

A CSV of two parts' records or more (`api.ROWS_PER_PART`) read from SQLite is written in parts by
parallel COPYs and joined in order (`store.analytics.csv_parts`), reporting progress part by part. A
smaller one is one DuckDB `COPY`; with a progress callback a thread reports the file's growth against an
estimate. A text search is one COPY (each part would run the search again). Parquet is one `COPY` (a
Parquet file cannot be appended to) and keeps every value exactly as stored: it is read by analysis
tools, not spreadsheets, so text is not prefixed with the CSV's formula guard.
"""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

from store import leftovers
from store.analytics import csv_parts
from store.analytics.csv_parts import Progress
from store.analytics.api import ROWS_PER_PART
from store.analytics.queries import date_range
from store.analytics.ranges import DateRange, where
from store.analytics.errors import AnalyticsQueryError
from store.analytics.read_model import TABLE
from store.analytics.records import RECORD_COLUMNS
from store.analytics.reports import (
    CSV_OPTIONS, PARQUET_OPTIONS, copy_to, neutralised, neutralising_columns, records_sql, write_csv,
)
from store.analytics.text_search import engine

FORMATS = ("csv", "parquet")
_SAMPLE_ROWS = 1_000
_POLL_S = 0.25
_BEFORE_DONE = 0.99  # an estimate: the bar waits at 99% rather than claim the end before the COPY ends



def export_records(
    con, path: Path, start: date | None = None, end: date | None = None, *, backend=None, model=None,
    min_confidence: float | None = None, text: str | None = None, file_format: str = "csv",
    progress: Progress | None = None, include_experiments: bool = False, rows_per_part: int = ROWS_PER_PART,
) -> int:
    """Write every column of the matching records (oldest first) to `path`; return the row count. Records
    of experiment runs are left out unless `include_experiments`. A CSV of two `rows_per_part` or more is
    written in parts of about that many records, in parallel.

    Raises:
        AnalyticsQueryError: an unknown `file_format`, or a `rows_per_part` below 1.
        ExportWriteError: the file cannot be written.
    """
    if file_format not in FORMATS:
        raise AnalyticsQueryError(f"format must be one of {', '.join(FORMATS)}, got {file_format!r}")
    if isinstance(rows_per_part, bool) or not isinstance(rows_per_part, int) or rows_per_part < 1:
        raise AnalyticsQueryError(f"rows_per_part must be a whole number of at least 1, got {rows_per_part!r}")
    path = Path(path)
    filters = dict(
        backend=backend, model=model, min_confidence=min_confidence, text=text, include_experiments=include_experiments
    )
    rng = date_range(con, start, end)
    in_parts = None if file_format != "csv" or rng is None or (text or "").strip() else _csv_in_parts(
        con, path, rng, filters, progress, rows_per_part
    )
    if in_parts is not None:
        rows = in_parts
    elif file_format == "parquet":
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


def _csv_in_parts(
    con, path: Path, rng: DateRange, filters: dict, progress: Progress | None, rows_per_part: int
) -> int | None:
    """The CSV written in parts by parallel COPYs (see `csv_parts`); None (nothing written) when one COPY
    is the better way: fewer than two parts' records, or one DuckDB thread."""
    (threads,) = con.execute("SELECT current_setting('threads')").fetchone()
    if int(threads) < 2:
        return None
    scope = {name: filters[name] for name in ("backend", "model", "min_confidence")}
    expected = expected_rows(con, rng, **scope)
    if expected < 2 * rows_per_part:
        return None
    clause, params = where(rng, scope["backend"], scope["model"], min_confidence=scope["min_confidence"])
    edges = [None, *csv_parts.part_bounds(con, clause, params, rows_per_part), None]
    sqls = [records_sql(con, rng, part=part, **filters)[0] for part in zip(edges, edges[1:])]
    columns = neutralising_columns(con, sqls[0], [])  # every part has the same columns
    selects = [f"SELECT {columns} FROM ({sql})" for sql in sqls]
    return csv_parts.copy_csv_in_parts(
        con, selects, path, workers=int(threads), progress=progress, expected=expected,
        sqlite_text=engine(con) == "sqlite",
    )


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
