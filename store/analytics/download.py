"""Downloads of the records for the dashboard: the worker writes the CSV to a private temporary file and
returns its path, so a 200,000-record download never crosses the worker's pipe as one byte string (measured
in bench/bench_worker.py); the caller reads the file and removes it (`ExportedFile.remove`).

The CSV is the same as `records_csv` gives (DuckDB's writer, RFC 4180, formula guard; see `reports`).
With a progress callback the file's growth is reported against the expected rows (`expected`, e.g. the
count the page already shows, else the read model's count without the text search).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from pathlib import Path

from store.analytics.api import ExportedFile
from store.analytics.export import Progress, copy_csv_with_progress, expected_rows
from store.analytics.queries import date_range
from store.analytics.reports import CSV_OPTIONS, DEFAULT_DOWNLOAD_ROWS, copy_to, neutralised, records_sql, too_large

logger = logging.getLogger(__name__)

DIRECTORY_PREFIX = "prompt-improver-download-"
# A download directory older than this was abandoned (a dashboard killed between the export and the
# download, or a cancelled export): no export runs that long (the worker's export timeout is 30 minutes).
STALE_AFTER_S = 3_600.0


def records_file(
    con, start=None, end=None, *, backend=None, model=None, min_confidence: float | None = None,
    text: str | None = None, max_rows: int = DEFAULT_DOWNLOAD_ROWS, newest_first: bool = False,
    include_experiments: bool = False, expected: int | None = None, progress: Progress | None = None,
) -> ExportedFile:
    """Write the matching records' CSV to a new file in a private (0700) temporary directory.

    Raises:
        ExportTooLarge: more than `max_rows` records match (nothing is left behind).
        ExportWriteError: the temporary file cannot be written (a full disk).
    """
    remove_abandoned()
    rng = date_range(con, start, end)
    sql, params = records_sql(
        con, rng, backend=backend, model=model, min_confidence=min_confidence, text=text,
        newest_first=newest_first, include_experiments=include_experiments,
    )
    # One row past the limit is enough to know: the work stays bounded however large the range.
    select = neutralised(con, f"SELECT * FROM ({sql}) LIMIT {int(max_rows) + 1:d}", params)
    exported = ExportedFile(Path(tempfile.mkdtemp(prefix=DIRECTORY_PREFIX)) / "records.csv", 0)
    try:
        if progress is None or rng is None:
            rows = copy_to(con, select, params, exported.path, CSV_OPTIONS)
        else:
            if expected is None:
                expected = expected_rows(con, rng, backend=backend, model=model, min_confidence=min_confidence)
            rows = copy_csv_with_progress(con, select, params, exported.path, min(expected, max_rows), progress)
        if rows > max_rows:
            raise too_large(max_rows)
    except BaseException:
        exported.remove()
        raise
    if progress is not None:
        progress(1.0, rows)
    return ExportedFile(exported.path, rows)


def remove_abandoned(now: float | None = None) -> list[Path]:
    """Remove download directories older than `STALE_AFTER_S` from the temporary directory; return them."""
    cutoff = (time.time() if now is None else now) - STALE_AFTER_S
    removed = []
    for directory in Path(tempfile.gettempdir()).glob(f"{DIRECTORY_PREFIX}*"):
        try:
            if directory.is_dir() and directory.stat().st_mtime < cutoff:
                shutil.rmtree(directory)
                removed.append(directory)
        except OSError as error:  # another user's, or removed meanwhile: not ours to insist on
            logger.debug("cannot remove the abandoned download %s: %s", directory, error)
    return removed
