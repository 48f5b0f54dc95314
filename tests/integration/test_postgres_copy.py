"""`prompt-improver copy`: a history moves between SQLite and PostgreSQL whole, and a rerun adds only what is missing."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import timedelta

import psycopg
import pytest

from prompt_improver.cli import main
from store.sqlite.migrations import migrate
from store.sqlite.repository import SQLitePromptRepository
from store.timestamps import utc_now
from tests.support.builders import make_record
from tests.support.postgres import PASSWORD

pytestmark = pytest.mark.postgres


def _sqlite_history(path, count: int, start: int = 0) -> None:
    migrate(path)
    with SQLitePromptRepository(path) as repo:
        repo.save_many(
            make_record(original_idea=f"idea number {i}", timestamp=utc_now() - timedelta(hours=i),
                        guardrails=(f"rule {i}", "two\nlines"), confidence=None if i % 7 == 0 else 0.5)
            for i in range(start, start + count)
        )


def _pg_records(url: str) -> dict[str, tuple]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT uid, timestamp, original_idea, guardrails, confidence FROM prompt_history").fetchall()
    return {row[0]: (row[1], row[2], list(row[3]), row[4]) for row in rows}


def _sqlite_records(path) -> dict[str, tuple]:
    with SQLitePromptRepository(path) as repo:
        records = repo.find_recent(limit=1_000_000)
    return {r.uid: (r.timestamp, r.original_idea, list(r.guardrails), r.confidence) for r in records}


def test_copy_from_sqlite_to_postgres_moves_every_record_and_a_rerun_adds_only_new_ones(postgres_url, db_path, capsys):
    _sqlite_history(db_path, 1_234)
    assert main(["copy", "--from", str(db_path), "--to", postgres_url, "--batch-size", "500"]) == 0
    out = capsys.readouterr().out
    assert "copied 1,234 records" in out and PASSWORD not in out
    assert _pg_records(postgres_url) == _sqlite_records(db_path)

    _sqlite_history(db_path, 10, start=5_000)  # written after the first copy (or left out by an interruption)
    assert main(["copy", "--from", str(db_path), "--to", postgres_url]) == 0
    out = capsys.readouterr().out
    assert "copied 10 records" in out and "(1,234 were already there)" in out
    assert _pg_records(postgres_url) == _sqlite_records(db_path)


def test_copy_from_postgres_to_a_new_sqlite_file_moves_every_record(postgres_url, db_path, tmp_path, capsys):
    _sqlite_history(db_path, 300)
    assert main(["copy", "--from", str(db_path), "--to", postgres_url]) == 0
    back = tmp_path / "back" / "history.db"
    assert main(["copy", "--from", postgres_url, "--to", str(back)]) == 0
    assert _sqlite_records(back) == _sqlite_records(db_path)
    with closing(sqlite3.connect(back)) as conn:
        assert conn.execute("SELECT min(id), max(id) FROM prompt_history").fetchone() == (1, 300)


def test_copy_from_a_missing_file_is_one_line(tmp_path, capsys, postgres_url):
    assert main(["copy", "--from", str(tmp_path / "nope.db"), "--to", postgres_url]) == 1
    err = capsys.readouterr().err
    assert "neither an existing SQLite file nor a postgresql:// URL" in err and err.count("\n") == 1
