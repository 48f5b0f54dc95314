"""Migrations 4 and 5: the covering index the analytics read model's full load scans instead of the table."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from store.sqlite.migrations import migrate
from store.sqlite.schema import SCHEMA_VERSION
from store.sqlite.repository import SQLitePromptRepository
from tests.support.builders import make_record
from tests.support.legacy_schema import database_at_version

# The columns `store/analytics/read_model.py` loads (`id` is the rowid, which every index carries).
ANALYTIC_SCAN = (
    "SELECT id, timestamp, backend, model_version, framework, role, confidence, quality, latency_ms, metric_version "
    "FROM prompt_history"
)


def query(path: Path, sql: str) -> list[tuple]:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(sql).fetchall()


def plan(path: Path, sql: str) -> str:
    return " | ".join(row[-1] for row in query(path, f"EXPLAIN QUERY PLAN {sql}"))


def indexes(path: Path) -> set[str]:
    return {name for (name,) in query(path, "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")}


def test_a_version_3_database_gains_the_covering_index_and_keeps_every_row(db_path):
    database_at_version(db_path, 3)
    with closing(sqlite3.connect(db_path)) as conn, conn:
        conn.executemany(
            "INSERT INTO prompt_history (uid, timestamp, original_idea, improved_prompt, backend, confidence, "
            "latency_ms) VALUES (?, ?, 'an idea', 'a prompt', 'few-shot', 0.5, 1200.0)",
            [(f"u{n}", f"2026-01-{n + 1:02d}T10:15:42.123456+00:00") for n in range(20)],
        )
    before = query(db_path, "SELECT * FROM prompt_history ORDER BY id")

    assert migrate(db_path) == SCHEMA_VERSION

    after = query(db_path, "SELECT * FROM prompt_history ORDER BY id")
    assert [row[: len(before[0])] for row in after] == before  # later migrations only add columns
    assert "idx_prompt_history_analytics" in indexes(db_path)
    assert "idx_prompt_history_timestamp" not in indexes(db_path)  # a prefix of the new index
    assert query(db_path, "PRAGMA integrity_check") == [("ok",)]


def test_the_analytic_columns_are_read_from_the_index_not_the_table(db_path):
    migrate(db_path)
    with SQLitePromptRepository(db_path) as repo:
        repo.save_many(make_record(original_idea=f"idea {n}") for n in range(50))

    assert "COVERING INDEX idx_prompt_history_analytics" in plan(db_path, ANALYTIC_SCAN)


def test_date_ranges_and_newest_first_still_use_an_index_without_sorting_after_the_timestamp_index_is_gone(db_path):
    migrate(db_path)
    ranged = plan(db_path, "SELECT * FROM prompt_history WHERE timestamp >= '2026-01-01' ORDER BY timestamp, id")
    newest = plan(db_path, "SELECT * FROM prompt_history ORDER BY timestamp DESC, id DESC LIMIT 100")

    assert "USING INDEX idx_prompt_history_analytics (timestamp>?)" in ranged and "TEMP B-TREE" not in ranged
    assert "USING INDEX idx_prompt_history_analytics" in newest and "TEMP B-TREE" not in newest
