"""Retention on SQLite: both delete strategies, the backup written first, ids never reused, the WAL truncated."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest

from store import RepositoryConnectionError
from store.sqlite.migrations import migrate
from store.sqlite.schema import SCHEMA_VERSION
from store.sqlite.repository import SQLitePromptRepository
from store.timestamps import utc_now
from tests.support.builders import make_record

# rebuild_fraction 0 forces the copy-survivors path; above 1 forces the row-by-row DELETE.
STRATEGIES = pytest.mark.parametrize("rebuild_fraction", [0.0, 1.5], ids=["rebuild", "delete"])


def query(path: Path, sql: str, params: tuple = ()) -> list[tuple]:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(sql, params).fetchall()


def schema(path: Path) -> list[tuple]:
    """Every table, index and trigger with its definition (a renamed table's name is stored quoted)."""
    return [
        (kind, name, table, sql and sql.replace('CREATE TABLE "prompt_history"', "CREATE TABLE prompt_history"))
        for kind, name, table, sql in query(path, "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name")
    ]


@pytest.fixture
def repo(db_path: Path):
    """A repository holding 100 records aged 0..99 days, the oldest saved first (ids 1..100)."""
    migrate(db_path)
    with SQLitePromptRepository(db_path) as repository:
        now = utc_now()
        repository.save_many(
            make_record(timestamp=now - timedelta(days=age, hours=1), original_idea=f"Idea aged {age} days")
            for age in range(99, -1, -1)
        )
        yield repository


@STRATEGIES
def test_prune_deletes_only_records_older_than_the_window(repo, rebuild_fraction):
    survivors_before = {r.id: r for r in repo.find_recent(limit=1000) if (utc_now() - r.timestamp).days < 30}
    assert repo.count_older_than(30) == 70
    assert repo.delete_older_than(30, rebuild_fraction=rebuild_fraction) == 70
    assert {r.id: r for r in repo.find_recent(limit=1000)} == survivors_before
    assert query(repo.db_path, "SELECT count(*), min(id), max(id) FROM prompt_history") == [(30, 71, 100)]
    assert query(repo.db_path, "PRAGMA integrity_check") == [("ok",)]


@STRATEGIES
def test_prune_keeps_the_schema_and_never_reuses_ids(repo, rebuild_fraction):
    before = schema(repo.db_path)
    repo.delete_older_than(0, rebuild_fraction=rebuild_fraction)
    assert query(repo.db_path, "SELECT count(*) FROM prompt_history") == [(0,)]
    assert schema(repo.db_path) == before
    assert repo.save(make_record()).id == 101
    assert repo.search("Idea aged") == []


@STRATEGIES
def test_prune_bumps_the_generation_in_the_same_commit_and_truncates_the_wal(repo, rebuild_fraction):
    repo.delete_older_than(50, rebuild_fraction=rebuild_fraction)
    assert query(repo.db_path, "SELECT value FROM app_settings WHERE key = 'prune_generation'") == [("1",)]
    wal = repo.db_path.with_name(repo.db_path.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0


def test_the_backup_holds_every_row_as_it_was_before_the_delete(repo, tmp_path):
    backup = tmp_path / "backups" / "before.db"
    repo.delete_older_than(30, backup_to=backup)
    assert query(backup, "SELECT count(*), min(id), max(id) FROM prompt_history") == [(100, 1, 100)]
    assert query(backup, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    assert query(backup, "PRAGMA integrity_check") == [("ok",)]
    assert query(backup, "SELECT value FROM app_settings WHERE key = 'prune_generation'") == [("0",)]
    assert repo.get(1) is None
    assert SQLitePromptRepository(backup).get(1).original_idea == "Idea aged 99 days"
    assert SQLitePromptRepository(backup).get(100) == repo.get(100)


def test_a_backup_that_cannot_be_written_deletes_nothing(repo, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(RepositoryConnectionError, match="is a file, not a directory"):
        repo.delete_older_than(30, backup_to=blocker / "backup.db")
    assert repo.count_older_than(30) == 70
    assert repo.get_setting("prune_generation") == "0"


def test_a_backup_file_that_cannot_be_created_is_named_as_the_backup_and_deletes_nothing(repo):
    # /proc exists but accepts no new files, even from root.
    with pytest.raises(RepositoryConnectionError) as raised:
        repo.delete_older_than(30, backup_to=Path("/proc/backup.db"))
    assert str(raised.value) == (
        "cannot write the backup /proc/backup.db (unable to open database file); nothing was deleted: choose a "
        "backup path in a directory you can write, with free space about the size of the database"
    )
    assert repo.count_older_than(30) == 70
    assert repo.get_setting("prune_generation") == "0"


def test_vacuum_after_a_large_prune_shrinks_the_file(repo):
    repo.save_many(make_record(improved_prompt="x" * 5_000, timestamp=utc_now() - timedelta(days=400)) for _ in range(300))
    repo.delete_older_than(200)
    before = repo.db_path.stat().st_size
    repo.vacuum()
    assert repo.db_path.stat().st_size < before / 2
    assert repo.health().row_count == 100


def test_the_rebuild_keeps_views_triggers_and_columns_added_later(repo):
    with closing(sqlite3.connect(repo.db_path)) as conn, conn:
        conn.execute("ALTER TABLE prompt_history ADD COLUMN note TEXT DEFAULT 'kept'")
        conn.execute("CREATE VIEW recent_ids AS SELECT id FROM prompt_history")
        conn.execute("CREATE TABLE save_log (record_id INTEGER) STRICT")
        conn.execute(
            "CREATE TRIGGER log_save AFTER INSERT ON prompt_history BEGIN "
            "INSERT INTO save_log VALUES (new.id); END"
        )
    assert repo.delete_older_than(30, rebuild_fraction=0.0) == 70
    saved = repo.save(make_record())
    assert query(repo.db_path, "SELECT count(*) FROM recent_ids") == [(31,)]
    assert query(repo.db_path, "SELECT record_id FROM save_log") == [(saved.id,)]
    assert query(repo.db_path, "SELECT DISTINCT note FROM prompt_history") == [("kept",)]
    assert query(repo.db_path, "PRAGMA integrity_check") == [("ok",)]
