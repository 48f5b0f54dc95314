"""History fixtures for the analytics tests, written through the real store with `sqlite3`.

Each helper opens and closes its own connections: the test process writes the file, and DuckDB reads
it only inside the analytics worker's process (never both copies of SQLite in one process).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from contextlib import closing
from datetime import datetime, timezone
from pathlib import Path

from store.sqlite.migrations import migrate
from store.record import PromptHistory
from store.sqlite.repository import SQLitePromptRepository
from tests.support.builders import make_record


def at(text: str) -> datetime:
    """`"2026-01-03 10:15:42.123456"` (UTC) as an aware datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def create_history(db_path: Path, records: Iterable[PromptHistory] = ()) -> Path:
    """A migrated history file holding `records`, saved through the repository; returns the path."""
    migrate(db_path)
    repo = SQLitePromptRepository(db_path)
    try:
        repo.save_many(records)
    finally:
        repo.close()
    return db_path


def add(db_path: Path, *records: PromptHistory) -> None:
    """Save more records into an existing history."""
    repo = SQLitePromptRepository(db_path)
    try:
        repo.save_many(records)
    finally:
        repo.close()


def record_at(text: str, **overrides) -> PromptHistory:
    """`make_record` with the timestamp `text` (UTC)."""
    return make_record(timestamp=at(text), **overrides)


def raw_count(db_path: Path) -> int:
    """The number of rows in the file, read with plain SQL (the reference the analytics must match)."""
    with closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as conn:
        return conn.execute("SELECT count(*) FROM prompt_history").fetchone()[0]
