"""CSV reports: the records of a range, and a per day x backend summary. Runs where DuckDB runs.

Format: UTF-8 (no BOM), a header row, RFC 4180 quoting by Python's csv module (fields holding a comma,
a double quote, CR or LF are quoted; quotes doubled) and CRLF line ends, as RFC 4180 specifies.

Formula injection (OWASP "CSV Injection"): a text cell starting with `=`, `+`, `-`, `@`, a tab or a
carriage return would be executed by a spreadsheet, so it is written with a leading single quote (`'`),
which spreadsheets display but never evaluate. Only text columns are neutralised: numbers (ids,
confidence, quality, latency, counts) stay numbers, so a negative number is never altered.

Rows are fetched from DuckDB in chunks and written as they come, so a million-row export holds one chunk
in memory, not the whole result.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import TextIO

import duckdb

from store.analytics_queries import date_range
from store.analytics_ranges import AnalyticsQueryError, where
from store.read_model import TABLE
from store.record_queries import RECORD_COLUMNS, records_query

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CHUNK_ROWS = 20_000
DEFAULT_DOWNLOAD_ROWS = 200_000
SUMMARY_COLUMNS = ("day", "backend", "count", "avg_confidence", "avg_quality", "p50_latency_ms", "p95_latency_ms")
_TEXT_TYPES = ("VARCHAR", "JSON")


class ExportTooLarge(AnalyticsQueryError):
    """A download would hold more rows than its limit; use `prompt-improver export` for large ranges."""


def neutralise(value: str) -> str:
    """Prefix a single quote to text a spreadsheet would execute as a formula (OWASP)."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def write_csv(result: duckdb.DuckDBPyConnection, out: TextIO, max_rows: int | None = None) -> int:
    """Stream a DuckDB result to `out` as CSV with a header; return the number of data rows.

    Text columns (by the result's types) are neutralised; other columns are written as their values.
    The result is consumed to the end.

    Raises:
        ExportTooLarge: more than `max_rows` rows (when given).
    """
    names = [column[0] for column in result.description]
    text = [index for index, column in enumerate(result.description) if str(column[1]) in _TEXT_TYPES]
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(names)
    count = 0
    while chunk := result.fetchmany(CHUNK_ROWS):
        if text:
            chunk = [_neutralise_row(row, text) for row in chunk]
        count += len(chunk)
        if max_rows is not None and count > max_rows:
            raise ExportTooLarge(
                f"the selection holds more than the {max_rows:,} records a download allows; "
                "narrow the filters or run `prompt-improver export -o FILE`"
            )
        writer.writerows(chunk)
    return count


def _neutralise_row(row: tuple, text: Iterable[int]) -> list:
    cells = list(row)
    for index in text:
        value = cells[index]
        if value and value[0] in FORMULA_PREFIXES:
            cells[index] = "'" + value
    return cells


def _records_result(con, start, end, backend, model, min_confidence=None, text=None):
    rng = date_range(con, start, end)
    if rng is None:
        return None
    sql, params = records_query(rng, backend, model, min_confidence=min_confidence, text=text)
    return con.execute(sql, params)


def _summary_result(con, start, end, backend, model):
    rng = date_range(con, start, end)
    if rng is None:
        return None
    clause, params = where(rng, backend, model)
    return con.execute(
        f"""
        SELECT CAST(ts AS DATE) AS day, backend, count(*) AS count, avg(confidence) AS avg_confidence,
               avg(quality) AS avg_quality, quantile_cont(latency_ms, 0.5) AS p50_latency_ms,
               quantile_cont(latency_ms, 0.95) AS p95_latency_ms
        FROM {TABLE} WHERE {clause} GROUP BY ALL ORDER BY day, backend
        """,
        params,
    )


def _write(result, path: Path | None, header: Iterable[str], buffer: TextIO | None = None, max_rows=None) -> int:
    def emit(out: TextIO) -> int:
        if result is None:
            csv.writer(out, lineterminator="\r\n").writerow(header)
            return 0
        return write_csv(result, out, max_rows)

    if buffer is not None:
        return emit(buffer)
    with open(path, "w", encoding="utf-8", newline="") as out:
        return emit(out)


def export_records(
    con, path: Path, start: date | None = None, end: date | None = None, *, backend=None, model=None,
    min_confidence: float | None = None, text: str | None = None,
) -> int:
    """Write every column of the matching records (oldest first) to `path`; return the row count.

    Guardrails are written as their stored JSON array text. Needs the SQLite file attached.
    """
    result = _records_result(con, start, end, backend, model, min_confidence, text)
    return _write(result, Path(path), RECORD_COLUMNS)


def export_summary(con, path: Path, start: date | None = None, end: date | None = None, *, backend=None, model=None) -> int:
    """Write per day x backend count, averages and p50/p95 latency to `path`; return the row count."""
    return _write(_summary_result(con, start, end, backend, model), Path(path), SUMMARY_COLUMNS)


def records_csv(
    con, start=None, end=None, *, backend=None, model=None, min_confidence: float | None = None,
    text: str | None = None, max_rows: int = DEFAULT_DOWNLOAD_ROWS,
) -> bytes:
    """The records export as UTF-8 bytes, for a download button.

    Raises:
        ExportTooLarge: more than `max_rows` records match.
    """
    buffer = io.StringIO()
    result = _records_result(con, start, end, backend, model, min_confidence, text)
    _write(result, None, RECORD_COLUMNS, buffer, max_rows)
    return buffer.getvalue().encode("utf-8")


def summary_csv(con, start=None, end=None, *, backend=None, model=None) -> bytes:
    """The summary report as UTF-8 bytes (at most one row per day and backend)."""
    buffer = io.StringIO()
    _write(_summary_result(con, start, end, backend, model), None, SUMMARY_COLUMNS, buffer)
    return buffer.getvalue().encode("utf-8")
