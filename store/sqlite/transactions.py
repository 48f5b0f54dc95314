"""The repository's transactions: which connection an operation runs on, and the checks around it.

An operation runs in one transaction (`BEGIN IMMEDIATE` for writes, so writers queue on the busy timeout
instead of failing on a lock upgrade) on its thread's own connection (`thread_connections`), after
checking the schema version and holding the WAL keeper (`wal_keeper`). One with its own pragmas (the
prune) gets a fresh connection, closed afterwards, so the pragmas never outlive it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from functools import partial
from pathlib import Path

from store.errors import RepositoryConnectionError
from store.sqlite.connection import check_path, connect, translate_errors
from store.sqlite.migrations import newer_schema_error
from store.sqlite.schema import SCHEMA_VERSION
from store.sqlite.thread_connections import ThreadConnections
from store.sqlite.wal_keeper import WalKeeper


class Transactions:
    """Transactions on `db_path` for one repository. Constructing it does no I/O.

    Args:
        db_path: the database file.
        busy_timeout_ms: how long an operation waits for another writer before failing.
        wal: whether the file is in WAL mode (then the WAL keeper is held).
    """

    def __init__(self, db_path: Path, busy_timeout_ms: int, *, wal: bool) -> None:
        self.db_path = db_path
        self.busy_timeout_ms = busy_timeout_ms
        self._keeper = WalKeeper(db_path) if wal else None
        # No reference back to the repository: one dropped without close() closes its connections at once.
        self._connections = ThreadConnections(db_path, partial(connect, db_path, busy_timeout_ms, any_thread=True))

    def close(self) -> None:
        """Close every thread's connection and release the WAL keeper."""
        self._connections.close()
        if self._keeper is not None:
            self._keeper.close()

    def check_version(self, conn: sqlite3.Connection) -> None:
        """Raise RepositoryConnectionError unless the file has the schema version this code needs."""
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version == SCHEMA_VERSION:
            return
        if version > SCHEMA_VERSION:
            raise newer_schema_error(self.db_path, version)
        raise RepositoryConnectionError(
            f"{self.db_path} has schema version {version} but this code needs {SCHEMA_VERSION}; run the "
            "migrations first (store.sqlite.migrations.migrate; the dashboard and every prompt-improver command "
            "run them at start)"
        )

    @contextmanager
    def fresh(self) -> Iterator[sqlite3.Connection]:
        """A new connection of its own, closed afterwards (no transaction, no error translation)."""
        if not self.db_path.exists():
            check_path(self.db_path)
        with closing(connect(self.db_path, self.busy_timeout_ms)) as conn:
            yield conn

    @contextmanager
    def run(self, *, write: bool, pragmas: tuple[str, ...] = ()) -> Iterator[sqlite3.Connection]:
        """This thread's connection inside one transaction, committed on success, rolled back on error."""
        with translate_errors(self.db_path):
            if pragmas:
                with self.fresh() as conn:
                    for pragma in pragmas:
                        conn.execute(f"PRAGMA {pragma}")
                    yield from self._in_transaction(conn, write)
                return
            try:
                ticket = self._connections.acquire()
            except OSError:  # no file there (any more): a fresh connection reports what is wrong
                ticket = None
            if ticket is None:  # or this thread's connection is busy (a nested operation)
                with self.fresh() as conn:
                    yield from self._in_transaction(conn, write)
                return
            failed = True
            try:
                yield from self._in_transaction(ticket.held.conn, write)
                failed = False
            finally:
                self._connections.release(ticket, failed=failed)

    def _in_transaction(self, conn: sqlite3.Connection, write: bool) -> Iterator[sqlite3.Connection]:
        conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            self.check_version(conn)
            if self._keeper is not None:
                self._keeper.hold()
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
