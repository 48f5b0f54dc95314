"""A database made with the original design's schema, for the in-place upgrade tests."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

LEGACY_SCHEMA_SQL = """
CREATE TABLE prompt_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    timestamp DATETIME DEFAULT CURRENT_TIMESTAMP,
    original_idea TEXT NOT NULL,
    context TEXT,
    improved_prompt TEXT NOT NULL,
    role TEXT, directive TEXT, framework TEXT,
    guardrails TEXT,            -- newline-joined
    backend TEXT NOT NULL,      -- 'zero_shot' / 'few_shot' (maybe hyphens or other case)
    confidence REAL, reasoning TEXT, latency_ms REAL, model_version TEXT);
CREATE INDEX idx_timestamp ON prompt_history(timestamp);
CREATE INDEX idx_backend ON prompt_history(backend);
CREATE TABLE schema_metadata (version INTEGER PRIMARY KEY, applied_at DATETIME DEFAULT CURRENT_TIMESTAMP);
INSERT INTO schema_metadata (version) VALUES (1);
"""

LEGACY_COLUMNS = (
    "timestamp", "original_idea", "context", "improved_prompt", "role", "directive", "framework",
    "guardrails", "backend", "confidence", "reasoning", "latency_ms", "model_version",
)

# Rows as the original design wrote them, awkward ones included. Each is a dict of LEGACY_COLUMNS.
LEGACY_ROWS: tuple[dict, ...] = (
    dict(timestamp="2025-11-02 08:30:00", original_idea="Write a haiku about databases", context=None,
         improved_prompt="You are a poet. Write a haiku.", role="Poet", directive="Write a haiku",
         framework="CO-STAR", guardrails="Three lines\n5-7-5 syllables", backend="zero_shot",
         confidence=0.9, reasoning="short", latency_ms=812.0, model_version="gpt-4o-mini"),
    dict(timestamp="2025-11-03T09:15:42.123456", original_idea="Résumé d'un café ☕ — مرحبا", context="ctx\nline2",
         improved_prompt="It's \"quoted\"; DROP TABLE prompt_history; -- 100% _done_", role=None, directive=None,
         framework=None, guardrails="\nfirst\n\n  \nsecond\r\nthird\n", backend="FEW-SHOT",
         confidence=None, reasoning=None, latency_ms=None, model_version=None),
    dict(timestamp="2025-11-04 23:59:59", original_idea="Plan a trip to Lisbon", context="",
         improved_prompt="Plan it.", role="Travel agent", directive="Plan", framework="RTF",
         guardrails=None, backend="few_shot", confidence=1.7, reasoning="over-confident",
         latency_ms=-5.0, model_version="m"),
    dict(timestamp="2025-12-31 00:00:00.5", original_idea="Summarise this meeting transcript",
         context="notes", improved_prompt="Summarise.", role="", directive="", framework="",
         guardrails="", backend="Zero-Shot", confidence=0.0, reasoning="", latency_ms=0.0, model_version="v1"),
)


def create_legacy_database(path: Path, rows: tuple[dict, ...] = LEGACY_ROWS, *, deleted_tail: int = 0) -> None:
    """Create a database with the original schema holding `rows` (ids 1..n).

    With `deleted_tail`, that many extra rows are inserted and then deleted, so the AUTOINCREMENT
    high-water mark is above the highest surviving id (as after the original's retention cleanup).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    placeholders = ", ".join("?" for _ in LEGACY_COLUMNS)
    insert = f"INSERT INTO prompt_history ({', '.join(LEGACY_COLUMNS)}) VALUES ({placeholders})"
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.executescript(LEGACY_SCHEMA_SQL)
        conn.executemany(insert, [tuple(row[column] for column in LEGACY_COLUMNS) for row in rows])
        for _ in range(deleted_tail):
            conn.execute(insert, tuple(rows[0][column] for column in LEGACY_COLUMNS))
        if deleted_tail:
            conn.execute("DELETE FROM prompt_history WHERE id > ?", (len(rows),))


def database_at_version(db_path: Path, version: int) -> None:
    """A database as an older release left it: migrations 1..`version` applied, `user_version` set."""
    from store.sqlite.schema import MIGRATIONS
    from store.sqlite.connection import split_statements

    with closing(sqlite3.connect(db_path)) as conn, conn:
        for migration in MIGRATIONS[:version]:
            for statement in split_statements(migration):
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {int(version)}")
