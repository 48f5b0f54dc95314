"""A large CSV export written as consecutive slices of its time range by parallel COPYs, joined in order.

Why: the records are read from SQLite by `sqlite_query()`, one single-threaded statement, and DuckDB keeps
the rest of that COPY (the formula guard, the CSV writer) on the same thread, so one COPY of 1M records used
one core of two (about 5 CPU-s: 2.4 reading, 2.5 writing). Here the range is cut into parts of about
`rows_per_part` records (`store.analytics.api.ROWS_PER_PART`; the bounds are timestamps of the read model's
records, so the parts are even), each part is one single-threaded COPY on its own cursor (`workers` at a
time), and the parts are appended to the report in order as they complete, in the kernel
(`os.copy_file_range`). A part holds the records of the instants `[bound_k, bound_k+1)` in
`ORDER BY timestamp, id`, so the file equals one COPY's byte for byte. On PostgreSQL each part is one
query the server filters and orders (`records._postgres_records`), and the parts run the same way.

DuckDB runs on one thread meanwhile (`SET threads = 1`): its pool threads otherwise spun beside the
parallel COPYs (8.1 user CPU-s instead of 5.6 at 1M records). At most `AHEAD` parts wait on disk to be
appended, so the temporary space stays a few parts whatever the size of the export."""

from __future__ import annotations

import errno
import os
import shutil
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import duckdb

from store import leftovers
from store.analytics import utf8_text
from store.analytics.read_model import TABLE
from store.analytics.reports import CSV_OPTIONS, CSV_OPTIONS_NO_HEADER, write_error

AHEAD = 4
_COPY_CHUNK = 1 << 26

Progress = Callable[[float, int], None]  # (share written, records written so far: estimates until 1.0 with one COPY)


def part_bounds(con: duckdb.DuckDBPyConnection, clause: str, params: list, rows_per_part: int) -> list[datetime]:
    """The timestamps (naive UTC, ascending, distinct) that cut the read model's records matching `clause`
    into parts of about `rows_per_part` records; empty when they fit in one part."""
    rows = con.execute(
        f"SELECT DISTINCT ts FROM (SELECT ts, row_number() OVER (ORDER BY ts) AS n FROM {TABLE} WHERE {clause}) "
        f"WHERE n % {int(rows_per_part):d} = 1 AND n > 1 ORDER BY ts",
        params,
    ).fetchall()
    return [row[0] for row in rows]


def copy_csv_in_parts(
    con: duckdb.DuckDBPyConnection, selects: list[str], path: Path, *, workers: int,
    progress: Progress | None = None, expected: int = 0, sqlite_text: bool = True,
) -> int:
    """Write the rows of `selects` (DuckDB SELECTs, each already neutralised, in file order) to `path` as one
    CSV with one header, under a temporary name renamed when complete; return the rows written. With
    `progress`, report (share, rows) after each part is appended (the share against `expected`).
    `sqlite_text`: the selects read SQLite's text, whose UTF-8 each cursor checks (`utf8_text`).

    Raises:
        ExportWriteError: the report cannot be written (no such directory, no permission, a full disk).
        duckdb.Error: reading the history failed (as one COPY raises it).
    """
    path = Path(path)
    leftovers.remove_stale(path)
    temporary = leftovers.temporary_path(path.absolute())
    parts = [temporary.with_name(f"{temporary.name}.part{index}") for index in range(len(selects))]
    written = [0] * len(parts)
    finished = [threading.Event() for _ in parts]
    workers = max(1, min(workers, len(parts)))
    slots = threading.Semaphore(AHEAD + workers)  # parts written and not yet appended, plus those being written
    stop = threading.Event()
    errors: list[BaseException] = []
    claimed = iter(range(len(parts)))
    lock = threading.Lock()

    def work(cursor: duckdb.DuckDBPyConnection) -> None:
        while True:
            slots.acquire()  # before the index: the part the join waits for always holds a slot
            with lock:
                index = next(claimed, None)
            if index is None or stop.is_set():
                slots.release()
                return
            try:
                options = CSV_OPTIONS if index == 0 else CSV_OPTIONS_NO_HEADER
                target = str(parts[index]).replace("'", "''")
                (written[index],) = cursor.execute(f"COPY ({selects[index]}) TO '{target}' ({options})").fetchone()
            except Exception as error:  # noqa: BLE001 - handed to the joining thread, which raises it
                errors.append(error)
                stop.set()
            finally:
                finished[index].set()

    (threads,) = con.execute("SELECT current_setting('threads')").fetchone()
    con.execute("SET threads = 1")
    cursors: list[duckdb.DuckDBPyConnection] = []
    running: list[threading.Thread] = []
    rows = 0
    try:
        for number in range(workers):
            cursor = con.cursor()
            if sqlite_text:
                utf8_text.install(cursor)  # temporary macros live on the connection that made them
            cursors.append(cursor)
            running.append(threading.Thread(target=work, args=(cursor,), name=f"export-part-{number}", daemon=True))
            running[-1].start()
        # Unbuffered: parts are appended through the file descriptor.
        with open(temporary, "wb", buffering=0) as out:
            for index, part in enumerate(parts):
                finished[index].wait()
                if errors:
                    raise errors[0]
                _append(part, out)
                part.unlink()
                slots.release()
                rows += int(written[index])
                if progress is not None and index < len(parts) - 1:
                    progress(min(0.99, rows / expected) if expected else 0.0, rows)
        os.replace(temporary, path)
    except (duckdb.IOException, OSError) as error:
        raise (write_error(error, path, temporary) or error) from None
    finally:
        stop.set()
        for _ in running:
            slots.release()  # a worker waiting for a slot wakes, sees the stop and returns
        for cursor in cursors:
            cursor.interrupt()
        for thread in running:
            thread.join()
        for cursor in cursors:
            cursor.close()
        con.execute(f"SET threads = {int(threads):d}")
        for part in parts:
            part.unlink(missing_ok=True)
        temporary.unlink(missing_ok=True)
    return rows


def _append(part: Path, out) -> None:
    """Append the file `part` to `out` (an unbuffered file open for writing), in the kernel where it can."""
    with open(part, "rb", buffering=0) as source:
        size = os.fstat(source.fileno()).st_size
        done = 0
        try:
            while done < size:
                copied = os.copy_file_range(source.fileno(), out.fileno(), min(_COPY_CHUNK, size - done))
                if copied == 0:
                    break
                done += copied
        except AttributeError:  # not Linux
            pass
        except OSError as error:
            if error.errno not in _NOT_SUPPORTED:
                raise
        if done < size:
            source.seek(done)
            shutil.copyfileobj(source, out, 1 << 20)


# copy_file_range refused for these files (another filesystem on an old kernel, a filesystem without it).
_NOT_SUPPORTED = frozenset({errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP})
