"""The migration runner: fresh files, idempotence, concurrent runners, newer schemas, the legacy upgrade."""

from __future__ import annotations

import json
import logging
import multiprocessing
import sqlite3
from contextlib import closing
from datetime import datetime, timezone
from pathlib import Path

import pytest

from store import RepositoryConnectionError
from store.sqlite.migrations import migrate, schema_version
from store.record import BackendType
from store.sqlite.schema import MIGRATIONS, SCHEMA_VERSION
from store.sqlite.connection import split_statements
from store.sqlite.repository import SQLitePromptRepository
from tests.support.builders import make_record
from tests.support.legacy_schema import LEGACY_COLUMNS, LEGACY_ROWS, create_legacy_database, database_at_version


def query(path: Path, sql: str, params: tuple = ()) -> list[tuple]:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(sql, params).fetchall()


def schema_dump(path: Path) -> list[tuple]:
    return query(path, "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name")


def test_migrate_creates_the_directory_and_a_wal_database_at_the_current_version(tmp_path):
    path = tmp_path / "data" / "nested" / "history.db"
    assert migrate(path) == SCHEMA_VERSION
    assert schema_version(path) == SCHEMA_VERSION
    assert query(path, "PRAGMA journal_mode") == [("wal",)]
    tables = {name for (name,) in query(path, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"prompt_history", "app_settings"} <= tables
    assert query(path, "SELECT value FROM app_settings WHERE key = 'prune_generation'") == [("0",)]


def test_migrate_without_wal_leaves_a_rollback_journal_database(db_path):
    migrate(db_path, wal=False)
    assert query(db_path, "PRAGMA journal_mode") == [("delete",)]
    migrate(db_path, wal=True)
    assert query(db_path, "PRAGMA journal_mode") == [("wal",)]
    migrate(db_path, wal=False)
    assert query(db_path, "PRAGMA journal_mode") == [("delete",)]


def test_running_migrate_again_changes_nothing(db_path):
    migrate(db_path)
    SQLitePromptRepository(db_path).save(make_record())
    before = (db_path.read_bytes(), schema_dump(db_path))
    assert migrate(db_path) == SCHEMA_VERSION
    assert (db_path.read_bytes(), schema_dump(db_path)) == before


def test_schema_version_of_a_missing_file_is_zero_and_creates_nothing(db_path):
    assert schema_version(db_path) == 0
    assert not db_path.exists()


def test_a_database_at_an_older_version_is_brought_forward_keeping_its_rows(db_path):
    with closing(sqlite3.connect(db_path)) as conn, conn:
        for statement in split_statements(MIGRATIONS[0]):
            conn.execute(statement)
        conn.execute("PRAGMA user_version = 1")
        conn.execute(
            "INSERT INTO prompt_history (uid, timestamp, original_idea, improved_prompt, backend) "
            "VALUES ('u1', '2026-01-03T10:15:42.123456+00:00', 'An older idea', 'A prompt', 'few-shot')"
        )
    assert migrate(db_path) == SCHEMA_VERSION
    assert SQLitePromptRepository(db_path).get(1).original_idea == "An older idea"


def _database_at_version_4(db_path: Path, rows: int) -> None:
    database_at_version(db_path, 4)
    with closing(sqlite3.connect(db_path)) as conn, conn:
        conn.executemany(
            "INSERT INTO prompt_history (uid, timestamp, original_idea, improved_prompt, backend, quality) "
            "VALUES (?, '2026-01-03T10:15:42.123456+00:00', 'An idea from before metric versions', 'A prompt', "
            "'few-shot', ?)",
            [(f"u{i}", None if i % 3 == 0 else 0.5 + i / (2 * rows)) for i in range(rows)],
        )


def test_a_version_4_database_gains_metric_versions_keeping_every_row_and_score(db_path):
    _database_at_version_4(db_path, 300)
    with closing(sqlite3.connect(db_path)) as conn:
        before = conn.execute("SELECT id, uid, quality FROM prompt_history ORDER BY id").fetchall()
    assert migrate(db_path) == SCHEMA_VERSION
    with closing(sqlite3.connect(db_path)) as conn:
        after = conn.execute("SELECT id, uid, quality, metric_version FROM prompt_history ORDER BY id").fetchall()
        indexed = [row[2] for row in conn.execute("PRAGMA index_info(idx_prompt_history_analytics)")]
    assert [row[:3] for row in after] == before  # no row lost, no score changed
    # Scores stored before metric versions existed are the first metric's; records without a score have none.
    assert {(row[2] is None, row[3]) for row in after} == {(True, None), (False, 1)}
    assert indexed[-2:] == ["metric_version", "experiment_id"]  # the read model loads both from the index
    assert SQLitePromptRepository(db_path).get(2).metric_version == 1


def test_a_metric_version_without_a_quality_is_refused_by_the_table(db_path):
    migrate(db_path)
    with closing(sqlite3.connect(db_path)) as conn, pytest.raises(sqlite3.IntegrityError):
        conn.execute(
            "INSERT INTO prompt_history (uid, timestamp, original_idea, improved_prompt, backend, metric_version) "
            "VALUES ('u', '2026-01-03T10:15:42.123456+00:00', 'An idea', 'A prompt', 'few-shot', 2)"
        )


def test_an_operation_on_an_unmigrated_database_says_to_run_the_migrations(db_path):
    sqlite3.connect(db_path).close()
    with pytest.raises(RepositoryConnectionError, match=f"schema version 0 .* needs {SCHEMA_VERSION}.*migrat"):
        SQLitePromptRepository(db_path).find_recent()


def test_a_newer_schema_is_refused_by_version_and_left_byte_for_byte_untouched(db_path):
    migrate(db_path, wal=False)
    with closing(sqlite3.connect(db_path)) as conn, conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    before = db_path.read_bytes()
    with pytest.raises(RepositoryConnectionError) as raised:
        migrate(db_path, wal=True)
    message = str(raised.value)
    assert f"schema version {SCHEMA_VERSION + 1}" in message and f"the {SCHEMA_VERSION} this version" in message
    assert "upgrade prompt-improver" in message
    assert db_path.read_bytes() == before
    assert query(db_path, "PRAGMA journal_mode") == [("delete",)]
    with pytest.raises(RepositoryConnectionError, match="newer"):
        SQLitePromptRepository(db_path, wal=False).save(make_record())
    assert db_path.read_bytes() == before


def _migrate_in_child(path: str, barrier) -> int:
    barrier.wait()
    return migrate(Path(path))


@pytest.mark.slow
def test_two_processes_migrating_the_same_new_file_at_once_both_succeed(tmp_path):
    context = multiprocessing.get_context("spawn")
    paths = [tmp_path / f"race-{attempt}.db" for attempt in range(4)]
    with context.Manager() as manager, context.Pool(2) as pool:
        for path in paths:
            barrier = manager.Barrier(2)
            results = pool.starmap(_migrate_in_child, [(str(path), barrier)] * 2)
            assert results == [SCHEMA_VERSION, SCHEMA_VERSION]
            assert query(path, "SELECT count(*) FROM app_settings WHERE key = 'prune_generation'") == [(1,)]
            assert query(path, "PRAGMA integrity_check") == [("ok",)]


# -- the original design's schema --------------------------------------------------------------------


def test_a_legacy_database_is_upgraded_in_place_keeping_every_row_and_id(db_path, caplog):
    create_legacy_database(db_path)
    with caplog.at_level(logging.WARNING, logger="store.sqlite.legacy_upgrade"):
        assert migrate(db_path) == SCHEMA_VERSION
    repo = SQLitePromptRepository(db_path)
    records = {record.id: record for record in repo.find_recent(limit=100)}
    assert sorted(records) == [1, 2, 3, 4]

    haiku = records[1]
    assert haiku.timestamp == datetime(2025, 11, 2, 8, 30, tzinfo=timezone.utc)
    assert (haiku.original_idea, haiku.context, haiku.role, haiku.framework) == (
        "Write a haiku about databases", "", "Poet", "CO-STAR")
    assert haiku.guardrails == ("Three lines", "5-7-5 syllables")
    assert haiku.backend is BackendType.ZERO_SHOT
    assert (haiku.confidence, haiku.latency_ms, haiku.model_version) == (0.9, 812.0, "gpt-4o-mini")

    awkward = records[2]
    assert awkward.timestamp == datetime(2025, 11, 3, 9, 15, 42, 123456, tzinfo=timezone.utc)
    assert awkward.original_idea == LEGACY_ROWS[1]["original_idea"]
    assert awkward.improved_prompt == LEGACY_ROWS[1]["improved_prompt"]
    assert awkward.context == "ctx\nline2"
    assert awkward.guardrails == ("first", "second", "third")
    assert awkward.backend is BackendType.FEW_SHOT
    assert (awkward.role, awkward.directive, awkward.model_version, awkward.reasoning) == ("", "", "", None)
    assert (awkward.confidence, awkward.latency_ms) == (None, None)

    out_of_range = records[3]
    assert (out_of_range.confidence, out_of_range.latency_ms) == (None, None)
    assert out_of_range.guardrails == ()
    assert "1 confidence values" in caplog.text and "1 negative or non-numeric latencies" in caplog.text

    assert records[4].timestamp == datetime(2025, 12, 31, 0, 0, 0, 500000, tzinfo=timezone.utc)
    assert records[4].backend is BackendType.ZERO_SHOT
    assert (records[4].confidence, records[4].latency_ms) == (0.0, 0.0)
    assert len({record.uid for record in records.values()}) == 4


def test_the_upgraded_rows_are_stored_in_the_new_formats(db_path):
    create_legacy_database(db_path)
    migrate(db_path)
    rows = query(db_path, "SELECT id, timestamp, guardrails, backend FROM prompt_history ORDER BY id")
    assert rows[0] == (1, "2025-11-02T08:30:00.000000+00:00", '["Three lines", "5-7-5 syllables"]', "zero-shot")
    assert json.loads(rows[1][2]) == ["first", "second", "third"]
    tables = {name for (name,) in query(db_path, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "schema_metadata" not in tables and "prompt_history_legacy" not in tables
    assert query(db_path, "PRAGMA integrity_check") == [("ok",)]


def test_new_saves_after_a_legacy_upgrade_get_ids_above_every_old_one(db_path):
    create_legacy_database(db_path, deleted_tail=3)  # ids 5..7 existed once and were deleted
    migrate(db_path)
    assert SQLitePromptRepository(db_path).save(make_record()).id == 8


def test_a_legacy_row_stamped_by_current_timestamp_is_read_as_utc(db_path):
    create_legacy_database(db_path, rows=())
    with closing(sqlite3.connect(db_path)) as conn, conn:
        conn.execute(
            "INSERT INTO prompt_history (original_idea, improved_prompt, backend) VALUES ('Default stamp', 'P', 'few_shot')"
        )
        stamped = conn.execute("SELECT timestamp FROM prompt_history").fetchone()[0]
    migrate(db_path)
    record = SQLitePromptRepository(db_path).get(1)
    assert record.timestamp == datetime.fromisoformat(stamped).replace(tzinfo=timezone.utc)


def test_a_large_legacy_database_keeps_its_row_count(db_path):
    rows = tuple(dict(LEGACY_ROWS[0], original_idea=f"Legacy idea number {i}") for i in range(5_000))
    create_legacy_database(db_path, rows=rows)
    migrate(db_path)
    assert query(db_path, "SELECT count(*), min(id), max(id) FROM prompt_history") == [(5_000, 1, 5_000)]


def test_a_legacy_row_that_cannot_be_represented_stops_the_upgrade_and_leaves_the_file_unchanged(db_path):
    bad = (dict(LEGACY_ROWS[0], backend="gpt-4"), dict(LEGACY_ROWS[0], original_idea="hi"), LEGACY_ROWS[0],
           dict(LEGACY_ROWS[0], timestamp="yesterday"))
    create_legacy_database(db_path, rows=bad)
    before = db_path.read_bytes()
    with pytest.raises(RepositoryConnectionError) as raised:
        migrate(db_path, wal=False)
    message = str(raised.value)
    assert "3 of its rows cannot be upgraded" in message
    assert "id 1: backend must be" in message and "'gpt-4'" in message
    assert "id 2: original_idea" in message and "id 4: timestamp 'yesterday'" in message
    assert "left unchanged" in message and "UPDATE prompt_history" in message
    assert db_path.read_bytes() == before
    assert schema_version(db_path) == 0
    assert query(db_path, f"SELECT {', '.join(LEGACY_COLUMNS[:2])} FROM prompt_history WHERE id = 4") == [
        ("yesterday", LEGACY_ROWS[0]["original_idea"])
    ]


def test_an_older_legacy_variant_without_optional_columns_is_upgraded(db_path):
    with closing(sqlite3.connect(db_path)) as conn, conn:
        conn.execute(
            "CREATE TABLE prompt_history (id INTEGER PRIMARY KEY AUTOINCREMENT, timestamp DATETIME DEFAULT "
            "CURRENT_TIMESTAMP, original_idea TEXT NOT NULL, improved_prompt TEXT NOT NULL, backend TEXT NOT NULL)"
        )
        conn.execute(
            "INSERT INTO prompt_history (timestamp, original_idea, improved_prompt, backend) "
            "VALUES ('2025-06-01 12:00:00', 'A minimal old idea', 'A prompt', 'zero_shot')"
        )
    migrate(db_path)
    record = SQLitePromptRepository(db_path).get(1)
    assert (record.original_idea, record.guardrails, record.model_version, record.confidence) == (
        "A minimal old idea", (), "", None)


def test_an_unknown_prompt_history_layout_at_version_zero_is_refused_and_left_unchanged(db_path):
    with closing(sqlite3.connect(db_path)) as conn, conn:
        conn.execute("CREATE TABLE prompt_history (uid TEXT, body TEXT)")
    before = db_path.read_bytes()
    with pytest.raises(RepositoryConnectionError, match="a layout this code does not know"):
        migrate(db_path, wal=False)
    assert db_path.read_bytes() == before
