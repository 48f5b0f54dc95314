"""One open connection per thread for a repository's plain transactions. Uses `sqlite3`.

Why: opening a connection costs ~0.2 ms (SQLite parses the schema) and the first touch of the FTS5 index
in a connection ~0.8 ms more (the tokenizer is built with its separator list), and every `save` touches
the index through its insert trigger, so a connection per operation made a save 17x a raw INSERT.

The rules that keep it as safe as a connection per operation:
- a connection belongs to the thread that opened it (held in a `threading.local` owned by the
  repository), so no connection is ever shared between threads; when the thread ends, its connection
  is closed (Streamlit runs each script run in a thread of its own, so old runs leave nothing open);
- it is used again only if the path still names the same file (device and inode): a history moved
  away or replaced (a restored backup) is opened afresh instead of being written through a stale handle;
- a transaction that raised closes its connection (the next one starts from a clean one);
- a forked child never uses nor closes its parent's connection (closing could checkpoint and delete the
  parent's WAL); it opens its own;
- `close()` closes every thread's connection, waiting for a transaction in flight to finish.
- an operation started inside another on the same thread finds the connection busy and is given a
  fresh one (by the caller) instead of waiting for itself.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import weakref
from collections.abc import Callable
from pathlib import Path


class _Held:
    """A connection, the lock that guards its use, and what it was opened on."""

    __slots__ = ("conn", "pid", "file_id", "generation", "lock")

    def __init__(self, conn: sqlite3.Connection, file_id: tuple[int, int], generation: int) -> None:
        self.conn, self.pid, self.file_id, self.generation = conn, os.getpid(), file_id, generation
        self.lock = threading.Lock()


class _Ticket:
    """What a thread's local holds: when the thread ends it is dropped, and its connection closed."""

    __slots__ = ("key", "held", "__weakref__")

    def __init__(self, key: int, held: _Held) -> None:
        self.key, self.held = key, held


def _retire(registry: dict[int, _Held], lock: threading.Lock, key: int) -> None:
    """Close the connection registered under `key` if this process opened it.

    A forked child's copy stays registered and open, never closed nor freed: closing it in the child
    could checkpoint and delete the parent's WAL.
    """
    with lock:
        held = registry.get(key)
        if held is None or held.pid != os.getpid():
            return
        del registry[key]
    try:
        held.conn.close()
    except sqlite3.Error:  # best effort: no transaction is open on a held connection
        pass


def file_id(path: Path) -> tuple[int, int]:
    """(device, inode) of the file at `path`; raises OSError when there is none."""
    stat = os.stat(path)
    return stat.st_dev, stat.st_ino


class ThreadConnections:
    """Per-thread connections to one database file, opened by `open_connection` on first use.

    Args:
        db_path: the database file.
        open_connection: opens a connection usable from any thread (`check_same_thread=False`: `close()`
            may run in another thread than the one that opened it; each is still used by one thread only).
    """

    def __init__(self, db_path: Path, open_connection: Callable[[], sqlite3.Connection]) -> None:
        self._db_path = db_path
        self._open = open_connection
        self._local = threading.local()
        self._lock = threading.Lock()
        self._registry: dict[int, _Held] = {}  # every connection opened and not yet closed, by ticket key
        self._next_key = 0
        self._generation = 0

    def acquire(self) -> _Ticket | None:
        """This thread's connection (`.held.conn`), locked for one transaction; give it back with `release`.

        None when it is busy: this thread is already inside a transaction on it (a nested operation), or
        `close()` is closing it. The caller then uses a connection of its own, as before the per-thread ones.

        Raises:
            OSError: the file does not exist (the caller opens a connection of its own, which reports it).
        """
        ticket: _Ticket | None = getattr(self._local, "ticket", None)
        current = file_id(self._db_path)
        if ticket is not None and (
            ticket.held.pid != os.getpid() or ticket.held.file_id != current
            or ticket.held.generation != self._generation
        ):
            self._forget(ticket)
            ticket = None
        if ticket is None:
            ticket = self._open_ticket(current)
        if not ticket.held.lock.acquire(blocking=False):
            return None
        if ticket.held.generation != self._generation:  # close() ran between the check and the lock
            ticket.held.lock.release()
            self._forget(ticket)
            return self.acquire()
        return ticket

    def release(self, ticket: _Ticket, *, failed: bool) -> None:
        """Unlock the connection after its transaction; after a failed one, close it."""
        ticket.held.lock.release()
        if failed:
            self._forget(ticket)

    def _open_ticket(self, current: tuple[int, int]) -> _Ticket:
        conn = self._open()
        with self._lock:
            self._next_key += 1
            ticket = _Ticket(self._next_key, _Held(conn, current, self._generation))
            self._registry[ticket.key] = ticket.held
        weakref.finalize(ticket, _retire, self._registry, self._lock, ticket.key)  # when the thread ends
        self._local.ticket = ticket
        return ticket

    def _forget(self, ticket: _Ticket) -> None:
        if getattr(self._local, "ticket", None) is ticket:
            del self._local.ticket
        _retire(self._registry, self._lock, ticket.key)

    def close(self) -> None:
        """Close every thread's connection (each after its transaction in flight, if any)."""
        with self._lock:
            self._generation += 1
            mine = [key for key, held in self._registry.items() if held.pid == os.getpid()]
        for key in mine:
            held = self._registry.get(key)
            if held is not None:
                with held.lock:
                    _retire(self._registry, self._lock, key)
        if getattr(self._local, "ticket", None) is not None:
            del self._local.ticket
