"""A history at schema version 6 (before the full-text index), as an upgrade finds it. Uses `sqlite3`."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from store.sqlite.schema import MIGRATIONS
from store.sqlite.connection import split_statements

FIELDS = ("original_idea", "context", "improved_prompt", "role", "directive", "guardrails")


def insert_texts(conn: sqlite3.Connection, rows: list[dict]) -> None:
    """Insert records with the given text fields (the rest minimal), one second apart."""
    for index, row in enumerate(rows):
        conn.execute(
            f"INSERT INTO prompt_history (uid, timestamp, backend, {', '.join(FIELDS)}) VALUES (?, ?, 'zero-shot', "
            f"{', '.join('?' for _ in FIELDS)})",
            (f"u{index}", f"2026-01-01T00:00:{index % 60:02d}.000000+00:00", *(row[name] for name in FIELDS)),
        )


def v6_history(path: Path, rows: int) -> Path:
    """A version-6 history holding `rows` records: `idea number N café`, `prompt N % 7`."""
    with closing(sqlite3.connect(path)) as conn, conn:
        for script in MIGRATIONS[:6]:
            for statement in split_statements(script):
                conn.execute(statement)
        conn.execute("PRAGMA user_version = 6")
        insert_texts(conn, [dict.fromkeys(FIELDS, "") | {
            "original_idea": f"idea number {i} café", "improved_prompt": f"prompt {i % 7}", "guardrails": "[]",
        } for i in range(rows)])
    return path
