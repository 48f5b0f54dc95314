"""The WAL keeper: one idle connection per process that keeps a WAL database's WAL open.

When the last connection to a WAL database closes, SQLite checkpoints the WAL into the database and
deletes it. The repository once opened a connection per operation, so without a keeper every `save` paid
for a checkpoint and an fsync (~3 ms here instead of ~0.4 ms; see docs/store.md). Its per-thread
connections now hold the WAL too, but a thread's connection closes when the thread ends (Streamlit
starts one per script run), and the keeper bridges the gap between them. The keeper runs one read
when opened and nothing after; it is never handed out, so no connection is shared between threads.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import weakref
from pathlib import Path


def _close_quietly(conn: sqlite3.Connection) -> None:
    try:
        conn.close()
    except sqlite3.Error:  # best effort: nothing is pending on an idle connection
        pass


class WalKeeper:
    """Holds one idle connection to `db_path` open in this process until `close()` or collection."""

    def __init__(self, db_path: Path) -> None:
        self._db_path = db_path
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._pid: int | None = None
        self._inherited: list[sqlite3.Connection] = []

    def hold(self) -> None:
        """Open the connection if this process has none (cheap when it has)."""
        if self._conn is not None and self._pid == os.getpid():
            return
        with self._lock:
            if self._conn is not None and self._pid != os.getpid():
                # Inherited across fork: closing it in the child could release locks SQLite thinks it
                # holds; it is kept, unused, instead.
                self._inherited.append(self._conn)
                self._conn = None
            if self._conn is None:
                uri = f"{self._db_path.absolute().as_uri()}?mode=rw"
                conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
                conn.execute("PRAGMA user_version").fetchone()  # a read opens the WAL index
                self._conn, self._pid = conn, os.getpid()
                weakref.finalize(self, _close_quietly, conn)

    def close(self) -> None:
        """Close the connection (the next `hold()` reopens it)."""
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                _close_quietly(self._conn)
            self._conn = None
