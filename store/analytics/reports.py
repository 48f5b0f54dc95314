"""CSV reports: the records of a range, and a per day x backend summary. Runs where DuckDB runs.

Format: UTF-8 (no BOM), a header row, RFC 4180 quoting (a field holding a comma, a double quote, CR or
LF is quoted and its quotes doubled) and CRLF line ends, as RFC 4180 specifies. Empty cells are NULLs.

Formula injection (OWASP "CSV Injection"): a text cell starting with `=`, `+`, `-`, `@`, a tab or a
carriage return would be executed by a spreadsheet, so it is written with a leading single quote (`'`),
which spreadsheets display but never evaluate. Only text columns are neutralised: numbers (ids,
confidence, quality, latency, counts) stay numbers, so a negative number is never altered.

Writing: DuckDB's own streaming CSV writer (`COPY (query) TO file`), with the neutralisation applied in
SQL to every VARCHAR column of the query. It never holds the whole result in memory, and it measured
about 5x faster than fetching chunks into Python's csv module (which could not reach 150k rows/s here);
the tests read every file back with Python's csv module.
"""

from __future__ import annotations

import os
import re
import tempfile
from datetime import date
from pathlib import Path

import duckdb

from store import leftovers
from store.analytics.queries import LATENCY_PERCENTILES, date_range
from store.analytics.ranges import where
from store.analytics.csv_cells import FORMULA_PREFIXES
from store.analytics.errors import ExportTooLarge, ExportWriteError
from store.analytics.read_model import TABLE
from store.analytics.records import RECORD_COLUMNS, WHOLE, records_query
from store.analytics.text_search import engine, search_match

DEFAULT_DOWNLOAD_ROWS = 200_000
# The precision every report gives: scores to 6 places, latencies (ms) to the microsecond.
SCORE_DECIMALS = 6
LATENCY_DECIMALS = 3
SUMMARY_COLUMNS = ("day", "backend", "count", "avg_confidence", "avg_quality", "p50_latency_ms", "p95_latency_ms")
_TEXT_TYPES = ("VARCHAR", "JSON")
# ascii() is the code point of the first character: 3x cheaper than comparing strings.
_PREFIX_CODES = ", ".join(str(ord(prefix)) for prefix in FORMULA_PREFIXES)


def write_csv(con: duckdb.DuckDBPyConnection, sql: str, params: list, path: Path) -> int:
    """Write the result of `sql` to `path` as CSV with a header; return the number of data rows.

    Every text column (by the query's result types) is neutralised; other columns keep their values.
    """
    return copy_to(con, neutralised(con, sql, params), params, Path(path), CSV_OPTIONS)


def neutralised(con: duckdb.DuckDBPyConnection, sql: str, params: list) -> str:
    """`sql` with every text column's formula prefix neutralised, in SQL (so DuckDB's writer stays fast)."""
    return f"SELECT {neutralising_columns(con, sql, params)} FROM ({sql})"


def neutralising_columns(con: duckdb.DuckDBPyConnection, sql: str, params: list) -> str:
    """The select list that neutralises the text columns of `sql`'s result (for `SELECT list FROM (sql)`)."""
    described = con.execute(f"DESCRIBE {sql}", params).fetchall()
    columns = []
    for name, kind, *_ in described:
        quoted = '"' + name.replace('"', '""') + '"'
        if kind in _TEXT_TYPES:
            columns.append(
                f"CASE WHEN ascii({quoted}) IN ({_PREFIX_CODES}) THEN '''' || {quoted} "
                f"ELSE {quoted} END AS {quoted}"
            )
        else:
            columns.append(quoted)
    return ", ".join(columns)


_CSV_FORMAT = "FORMAT csv, DELIMITER ',', QUOTE '\"', ESCAPE '\"', NEW_LINE '\r\n', USE_TMP_FILE false"
CSV_OPTIONS = f"{_CSV_FORMAT}, HEADER"
CSV_OPTIONS_NO_HEADER = f"{_CSV_FORMAT}, HEADER false"  # the parts after the first (see `csv_parts`)
PARQUET_OPTIONS = "FORMAT parquet, COMPRESSION zstd"


def copy_to(con: duckdb.DuckDBPyConnection, sql: str, params: list, path: Path, options: str,
            what: str = "CSV report") -> int:
    """`COPY (sql) TO path (options)` under a temporary name renamed when complete; return the rows.

    Raises:
        ExportWriteError: the file cannot be written (no such directory, no permission, a full disk).
    """
    # Our own temporary name (with the pid, so a killed export's leftover is known stale at the next
    # export of the same file), renamed when complete: a reader never sees half a report.
    leftovers.remove_stale(Path(path))
    temporary = leftovers.temporary_path(Path(path).absolute())
    target = str(temporary).replace("'", "''")
    try:
        (rows,) = con.execute(f"COPY ({sql}) TO '{target}' ({options})", params).fetchone()
        os.replace(temporary, path)
    except (duckdb.IOException, OSError) as error:
        raise (write_error(error, Path(path), temporary, what) or error) from None
    finally:
        temporary.unlink(missing_ok=True)
    return int(rows)


def write_error(error: Exception, path: Path, temporary: Path, what: str = "CSV report") -> ExportWriteError | None:
    """The `ExportWriteError` naming the report `path` (written as `temporary`) for `error`, or None when
    `error` is not about writing the file (a problem reading the history, which the caller reports as such)."""
    if isinstance(error, duckdb.IOException):
        text = str(error).splitlines()[0] if str(error) else type(error).__name__
        if path.name not in text:
            return None
        # DuckDB names the temporary file (or a part of it); the user named the report.
        reason = re.sub(re.escape(temporary.name) + r"(?:\.part\d+)?", path.name, text.removeprefix("IO Error: "))
    elif isinstance(error, OSError):
        reason = error.strerror or type(error).__name__
    else:
        return None
    return ExportWriteError(
        f"cannot write the {what} {path} ({reason}); write it to a file in a directory you can write, with free space"
    )


def records_sql(
    con, rng, *, backend=None, model=None, min_confidence=None, text=None, newest_first=False, include_experiments=False,
    part=WHOLE,
):
    """The records query (SQL, parameters) of the resolved range `rng` (None: no history, the header alone);
    `part`: a slice of the range (see `records_query`)."""
    if rng is None:
        return f"SELECT {', '.join(f'NULL::VARCHAR AS {name}' for name in RECORD_COLUMNS)} WHERE false", []
    return records_query(
        rng, backend, model, min_confidence=min_confidence, text=text, newest_first=newest_first,
        search=search_match(con, text), include_experiments=include_experiments, part=part,
        engine=engine(con) or "sqlite",
    )


def _records_sql(
    con, start, end, backend, model, min_confidence=None, text=None, newest_first=False, include_experiments=False
) -> tuple[str, list]:
    return records_sql(con, date_range(con, start, end), backend=backend, model=model,
                       min_confidence=min_confidence, text=text, newest_first=newest_first,
                       include_experiments=include_experiments)


def _summary_sql(con, start, end, backend, model) -> tuple[str, list]:
    rng = date_range(con, start, end)
    if rng is None:
        return f"SELECT {', '.join(f'NULL AS {name}' for name in SUMMARY_COLUMNS)} WHERE false", []
    clause, params = where(rng, backend, model)
    # Rounded so a spreadsheet shows 0.542, not 0.5419999999999999 (scores to 6 places, latency to µs).
    score, latency = SCORE_DECIMALS, LATENCY_DECIMALS
    sql = f"""
        SELECT day, backend, count, round(avg_confidence, {score}) AS avg_confidence,
               round(avg_quality, {score}) AS avg_quality, round(latency[1], {latency}) AS p50_latency_ms,
               round(latency[2], {latency}) AS p95_latency_ms
        FROM (
            SELECT CAST(ts AS DATE) AS day, backend, count(*) AS count, avg(confidence) AS avg_confidence,
                   avg(quality) AS avg_quality, {LATENCY_PERCENTILES} AS latency
            FROM {TABLE} WHERE {clause} GROUP BY ALL
        ) ORDER BY day, backend
    """
    return sql, params


def export_summary(con, path: Path, start: date | None = None, end: date | None = None, *, backend=None, model=None) -> int:
    """Write per day x backend count, averages and p50/p95 latency to `path`; return the row count."""
    return write_csv(con, *_summary_sql(con, start, end, backend, model), Path(path))


def records_csv(
    con, start=None, end=None, *, backend=None, model=None, min_confidence: float | None = None,
    text: str | None = None, max_rows: int = DEFAULT_DOWNLOAD_ROWS, newest_first: bool = False,
    include_experiments: bool = False,
) -> bytes:
    """The records export as UTF-8 bytes, for a download button (oldest first, or newest first).

    Raises:
        ExportTooLarge: more than `max_rows` records match.
    """
    sql, params = _records_sql(con, start, end, backend, model, min_confidence, text, newest_first, include_experiments)
    # One row past the limit is enough to know: the work stays bounded however large the range.
    data, rows = _to_bytes(con, f"SELECT * FROM ({sql}) LIMIT {int(max_rows) + 1:d}", params)
    if rows > max_rows:
        raise too_large(max_rows)
    return data


def too_large(max_rows: int) -> ExportTooLarge:
    """The error of a download holding more than `max_rows` records."""
    return ExportTooLarge(
        f"the selection holds more than the {max_rows:,} records a download allows; "
        "narrow the filters or run `prompt-improver export -o FILE`"
    )


def summary_csv(con, start=None, end=None, *, backend=None, model=None) -> bytes:
    """The summary report as UTF-8 bytes (at most one row per day and backend)."""
    return _to_bytes(con, *_summary_sql(con, start, end, backend, model))[0]


def _to_bytes(con, sql: str, params: list) -> tuple[bytes, int]:
    handle, name = tempfile.mkstemp(prefix="prompt-improver-", suffix=".csv")
    os.close(handle)
    try:
        rows = write_csv(con, sql, params, Path(name))
        return Path(name).read_bytes(), rows
    finally:
        os.unlink(name)
