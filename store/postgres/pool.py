"""The repository's connection pool, replaced whole after an outage (psycopg_pool's backoff would not see the
server come back for a while). Thread-safe: operations on many threads share it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg_pool import ConnectionPool, PoolClosed, PoolTimeout

from store.postgres.connection import open_pool


class RenewingPool:
    """A `ConnectionPool` for `url` that a closed or timed-out pool does not outlive. Opens nothing until used."""

    def __init__(self, url: str, *, timeout_s: float) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self._pool = open_pool(url, timeout_s=timeout_s)
        self._lock = threading.Lock()  # guards replacing the pool after an outage

    def close(self) -> None:
        """Close the pool's connections (`connection()` still works afterwards, on a new pool)."""
        self._pool.close()

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        """A connection from the pool, given back afterwards."""
        pool = self._pool
        try:
            conn = pool.getconn()
        except PoolClosed:  # closed by `close()`, or replaced by another thread after an outage
            pool = self._replace(pool)
            conn = pool.getconn()
        except PoolTimeout:
            pool = self._fresh_pool(pool)
            conn = pool.getconn()
        try:
            yield conn
        finally:
            pool.putconn(conn)

    def _fresh_pool(self, failed: ConnectionPool) -> ConnectionPool:
        """After an outage the pool waits longer and longer between reconnection attempts (1 s, 2 s, 4 s…),
        so a server that is back would still be refused for a while: when a direct connection works now,
        replace the pool. Raises the connection error when the server is still down."""
        psycopg.connect(self.url, connect_timeout=max(1, round(self.timeout_s))).close()
        return self._replace(failed)

    def _replace(self, old: ConnectionPool) -> ConnectionPool:
        """A new pool in place of `old` (once, however many threads ask), which is closed."""
        with self._lock:
            if self._pool is old:
                self._pool = open_pool(self.url, timeout_s=self.timeout_s)
                old.close(timeout=0)
            return self._pool
