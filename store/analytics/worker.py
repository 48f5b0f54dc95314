"""`AnalyticsWorker`: the analytics in a long-lived process of their own, for apps that also write.

DuckDB's sqlite extension carries its own copy of SQLite, and two copies in one process do not see each
other's POSIX locks (a writer thread plus DuckDB queries crashed with SIGBUS here). So the dashboard,
which saves records through `sqlite3`, asks this worker instead: one spawned process holding one DuckDB
instance (the extension's LOAD is paid once) and the read model, answering requests over a Pipe.

The client side is thread-safe (a lock serialises requests, as Streamlit calls from many threads). A
worker that died is started again on the next call, which is retried once; a worker that does not answer
within the timeout is killed and the call raises `AnalyticsWorkerError`. Errors raised inside the worker
come back as the same exceptions (`AnalyticsUnavailable`, `RepositoryConnectionError`, ...).
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path

from store.analytics.api import AnalyticsApi
from store.analytics.errors import AnalyticsWorkerError
from store.errors import RepositoryError
from store.postgres.urls import is_postgres_url

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 120.0
EXPORT_TIMEOUT_S = 1_800.0
# Answered by a second process of their own, so a slow export never holds up another session's query: with
# one process a `kpis` waited 4.7 s (427x idle) behind a 200k-record download (bench/bench_worker.py).
_EXPORTS = frozenset({"export_records", "export_summary", "records_csv", "records_file"})
# Housekeeping (the snapshot write: 0.24 s at 200k rows) waits for this much silence after a reply, so a
# page's next request is answered first.
IDLE_S = 0.5


class AnalyticsWorker(AnalyticsApi):
    """Analytics over `db_path`, computed in separate processes. Never writes to the database.

    Queries go to one process, exports and downloads to another (started on the first export), each
    serving one request at a time. The query process starts on the first call (or `start()`, to warm up
    while a page renders) and both live until `close()`; use it as a context manager or let the
    composition root own it.
    """

    def __init__(
        self, db_path: Path | str, *, timeout_s: float = DEFAULT_TIMEOUT_S, verify_interval_s: float = 30.0,
        snapshot_min_rows: int | None = 50_000,
    ):
        # A PostgreSQL URL stays text (Path would fold its `//`); a file is a Path.
        self._db_path = db_path if is_postgres_url(db_path) else Path(db_path)
        self._timeout_s = timeout_s
        options = {"verify_interval_s": verify_interval_s, "snapshot_min_rows": snapshot_min_rows}
        self._queries = _Lane(str(self._db_path), options, "prompt-improver-analytics", housekeeping=True)
        # Only the query process writes the snapshot; the export process reads it.
        self._exports = _Lane(str(self._db_path), options, "prompt-improver-analytics-export", housekeeping=False)

    @property
    def db_path(self) -> Path:
        """The history file this worker reads."""
        return self._db_path

    @property
    def pid(self) -> int | None:
        """The query process id, or None when it is not running."""
        return self._queries.pid

    @property
    def export_pid(self) -> int | None:
        """The export process id, or None when it is not running."""
        return self._exports.pid

    def start(self) -> None:
        """Start the query process now (it loads the extension and the read model before the first request)."""
        self._queries.start()

    def close(self) -> None:
        """Stop the processes (politely, then by force after 5 s)."""
        self._queries.close()
        self._exports.close()

    def __enter__(self) -> AnalyticsWorker:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:  # a forgotten worker must not outlive its owner for long
        try:
            self._queries.stop(force=False)
            self._exports.stop(force=False)
        except Exception:  # noqa: BLE001 - interpreter shutdown; nothing left to report to
            pass

    def _call(self, name: str, *args, **kwargs):
        progress = kwargs.pop("progress", None)
        if progress is not None:
            kwargs["progress"] = True  # the worker sends ("progress", share, rows) messages before its reply
        if name in _EXPORTS:
            return self._exports.call(name, args, kwargs, EXPORT_TIMEOUT_S, progress)
        return self._queries.call(name, args, kwargs, self._timeout_s, progress)


class _Lane:
    """One worker process and its pipe; a lock serialises the requests (Streamlit calls from many threads)."""

    def __init__(self, db_path: str, options: dict, name: str, *, housekeeping: bool):
        self._db_path, self._name = db_path, name
        self._options = {**options, "housekeeping": housekeeping}
        self._lock = threading.Lock()
        self._process: multiprocessing.process.BaseProcess | None = None
        self._conn: Connection | None = None

    @property
    def pid(self) -> int | None:
        process = self._process
        return process.pid if process is not None and process.is_alive() else None

    def start(self) -> None:
        with self._lock:
            self._ensure_started()

    def close(self) -> None:
        with self._lock:
            self.stop()

    def call(self, name: str, args: tuple, kwargs: dict, timeout: float, progress=None):
        with self._lock:
            for attempt in (1, 2):
                self._ensure_started()
                deadline = time.monotonic() + timeout
                try:
                    self._conn.send((name, args, kwargs))
                    while True:
                        if not self._conn.poll(max(0.0, deadline - time.monotonic())):
                            self.stop(force=True)
                            raise AnalyticsWorkerError(
                                f"the analytics worker did not answer {name} within {timeout:.0f} s; it was "
                                "stopped and the next call starts a new one"
                            )
                        message = self._conn.recv()
                        if message[0] != "progress":
                            break
                        self._report(progress, message[1:])
                    status, value = message
                except (EOFError, BrokenPipeError, ConnectionResetError, OSError) as error:
                    exit_code = self._process.exitcode if self._process is not None else None
                    self.stop(force=True)
                    if attempt == 2:
                        raise AnalyticsWorkerError(
                            f"the analytics worker died twice while answering {name} (exit code {exit_code}): {error!r}"
                        ) from None
                    logger.warning("analytics worker died (exit code %s); starting a new one", exit_code)
                    continue
                if status == "ok":
                    return value
                raise value

    def _report(self, progress, values: tuple) -> None:
        if progress is None:
            return
        try:
            progress(*values)
        except BaseException:
            # The caller gave up (a Streamlit rerun stops its script inside the callback): the reply will
            # never be read, so this process is stopped, which cancels the export.
            self.stop(force=True)
            raise

    def _ensure_started(self) -> None:
        if self._process is not None and self._process.is_alive():
            return
        self.stop(force=True)
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe(duplex=True)
        process = context.Process(
            target=serve, args=(child, self._db_path, self._options), name=self._name, daemon=True,
        )
        process.start()
        child.close()
        self._process, self._conn = process, parent

    def stop(self, force: bool = False) -> None:
        process, conn = self._process, self._conn
        self._process = self._conn = None
        if conn is not None:
            try:
                if not force:
                    conn.send(None)
            except OSError:
                pass
            conn.close()
        if process is not None:
            process.join(0 if force else 5)
            if process.is_alive():
                process.kill()
                process.join(5)


def serve(conn: Connection, db_path: str, options: dict) -> None:
    """The worker's loop: answer `(name, args, kwargs)` requests until `None` or the pipe closes."""
    from store.analytics.engine import QUERIES, Analytics  # imported here: only the worker loads DuckDB

    options = dict(options)
    housekeeping = options.pop("housekeeping", True)
    options["verify_when_idle"] = housekeeping  # the export process verifies as it syncs: it has no idle time
    analytics = None
    startup_error: BaseException | None = None
    # The first answer holding a DataFrame imports pandas (~0.35 s); importing it in a thread now overlaps
    # that with the extension's LOAD and the read model's load, which run in DuckDB without the GIL.
    threading.Thread(target=_import_pandas, name="import-pandas", daemon=True).start()
    try:
        analytics = Analytics(db_path if is_postgres_url(db_path) else Path(db_path), **options)
        # Warm up: load the read model before the first request arrives. The snapshot of a large history is
        # written when the worker is idle (see the loop), not before the first answer.
        analytics.sync()
    except RepositoryError as error:  # reported to each request until the owner restarts us
        startup_error = error
    try:
        while True:
            try:
                request = conn.recv()
            except (EOFError, OSError):
                return
            if request is None:  # a polite close: what is due still keeps the next start fast
                if housekeeping:
                    _housekeep(analytics)
                return
            name, args, kwargs = request
            try:
                if startup_error is not None and analytics is None:
                    raise startup_error
                if name not in QUERIES and name != "status":
                    raise AnalyticsWorkerError(f"unknown analytics request {name!r}")
                if kwargs.get("progress") is True:
                    kwargs["progress"] = _sender(conn)
                reply = ("ok", analytics._call(name, *args, **kwargs))
            except Exception as error:  # noqa: BLE001 - every failure goes back to the caller
                reply = ("error", _portable(error))
            try:
                conn.send(reply)
            except (OSError, ValueError):
                return
            if housekeeping and not _busy(conn):
                _housekeep(analytics)
    finally:
        if analytics is not None:
            analytics.close()


def _housekeep(analytics) -> None:
    if analytics is None:
        return
    try:
        analytics.housekeeping()
    except Exception:  # noqa: BLE001 - a cache refresh must never take the worker down
        logger.exception("analytics housekeeping failed")


def _busy(conn: Connection) -> bool:
    # A request already waiting (or arriving within IDLE_S) is answered before any housekeeping.
    try:
        return conn.poll(IDLE_S)
    except (EOFError, OSError):
        return True  # the owner has gone: the loop's next recv ends the worker


def _sender(conn: Connection):
    lock = threading.Lock()  # the export's watcher thread and the main thread both report

    def send(share: float, rows: int) -> None:
        with lock:
            try:
                conn.send(("progress", float(share), int(rows)))
            except (OSError, ValueError):  # the owner has gone; the reply's own send finds out
                pass

    return send


def _import_pandas() -> None:
    try:
        import pandas  # noqa: F401 - imported for its side effect: the module is ready when needed
    except ImportError:  # reported by the request that needs it, not here
        pass


def _portable(error: Exception) -> Exception:
    # Our errors and ValueErrors pickle as they are; anything else (a DuckDB bug, MemoryError) is
    # reported by type and message, since its class may not exist in the caller's process.
    if isinstance(error, (RepositoryError, ValueError)):
        return error
    logger.exception("analytics request failed")
    return AnalyticsWorkerError(f"the analytics worker failed: {type(error).__name__}: {error}")
