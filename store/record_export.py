"""`prompt-improver export` of the records: CSV (neutralised, see `store.reports`) or Parquet, with progress.

With a progress callback the CSV is written in day chunks (each DuckDB `COPY` of its range, the parts
appended in order), so the caller can draw a bar; without one it is one `COPY`. Parquet is one `COPY`
(a Parquet file cannot be appended to) and keeps every value exactly as stored: it is read by
analysis tools, not spreadsheets, so text is not prefixed with the CSV's formula guard.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

from store import leftovers
from store.analytics_queries import date_range
from store.analytics_ranges import AnalyticsQueryError, DateRange
from store.read_model import TABLE
from store.reports import CSV_OPTIONS, PARQUET_OPTIONS, ExportWriteError, copy_to, neutralised, records_sql, write_csv

FORMATS = ("csv", "parquet")
CHUNKS = 20
_COPY_BUFFER = 16 * 1024 * 1024

Progress = Callable[[float, int], None]  # (share of the range's days written, rows written so far)


def export_records(
    con, path: Path, start: date | None = None, end: date | None = None, *, backend=None, model=None,
    min_confidence: float | None = None, text: str | None = None, file_format: str = "csv",
    progress: Progress | None = None,
) -> int:
    """Write every column of the matching records (oldest first) to `path`; return the row count.

    Raises:
        AnalyticsQueryError: an unknown `file_format`.
        ExportWriteError: the file cannot be written.
    """
    if file_format not in FORMATS:
        raise AnalyticsQueryError(f"format must be one of {', '.join(FORMATS)}, got {file_format!r}")
    path = Path(path)
    filters = dict(backend=backend, model=model, min_confidence=min_confidence, text=text)
    rng = date_range(con, start, end)
    if file_format == "parquet":
        sql, params = records_sql(con, rng, **filters)
        rows = copy_to(con, sql, params, path, PARQUET_OPTIONS, "Parquet file")
    elif progress is None or rng is None or rng.days < 2:
        rows = write_csv(con, *records_sql(con, rng, **filters), path)
    else:
        rows = _chunked_csv(con, path, _with_records(con, rng), filters, progress)
    if progress is not None:
        progress(1.0, rows)
    return rows


def _with_records(con, rng: DateRange) -> DateRange:
    # Chunks over the days that hold records (a range from year 1 to 9999 is not cut into 500-year parts);
    # the first chunk still starts at the range's start and the last ends at its end.
    first, last = con.execute(
        f"SELECT min(ts)::DATE, max(ts)::DATE FROM {TABLE} WHERE ts >= ? AND ts <= ?", [rng.lo, rng.last]
    ).fetchone()
    if first is None:
        return rng
    return DateRange(first, last) if (first, last) != (rng.start, rng.end) else rng


def _chunked_csv(con, path: Path, rng, filters: dict, progress: Progress) -> int:
    part = leftovers.temporary_path(path.absolute().with_name(path.name + ".part"))
    leftovers.remove_stale(part)
    leftovers.remove_stale(path)
    temporary = leftovers.temporary_path(path.absolute())
    span = max(1, -(-rng.days // CHUNKS))
    rows = 0
    try:
        out = open(temporary, "wb")  # noqa: SIM115 - closed by the with below
    except OSError:  # the report cannot be written: one COPY says why, in the words every export uses
        return write_csv(con, *records_sql(con, rng, **filters), path)
    try:
        with out:
            first = rng.start
            while first <= rng.end:
                # Compared as a day count: `first + span` may lie past 9999-12-31.
                last = rng.end if (rng.end - first).days < span else first + timedelta(days=span - 1)
                sql, params = records_sql(con, replace(rng, start=first, end=last), **filters)
                options = CSV_OPTIONS if first == rng.start else CSV_OPTIONS.replace("HEADER", "HEADER false")
                rows += copy_to(con, neutralised(con, sql, params), params, part, options)
                with open(part, "rb") as chunk:
                    shutil.copyfileobj(chunk, out, _COPY_BUFFER)
                progress(((last - rng.start).days + 1) / rng.days, rows)
                first = last + timedelta(days=1)
        os.replace(temporary, path)
    except OSError as error:
        raise ExportWriteError(
            f"cannot write the CSV report {path} ({error.strerror}); write it to a file in a directory you can "
            "write, with free space"
        ) from None
    finally:
        temporary.unlink(missing_ok=True)
        part.unlink(missing_ok=True)
    return rows
