"""`save_many` indexes each batch in one statement (migration 8): the index stays exactly in step with the table."""

from __future__ import annotations

import sqlite3
from contextlib import closing

from store.sqlite.migrations import migrate
from store.sqlite.schema import BULK_WRITE_KEY
from store.sqlite.repository import SQLitePromptRepository
from tests.support.builders import make_record


def _index_state(path) -> tuple[int, int, list]:
    with closing(sqlite3.connect(path)) as conn:
        # rank 1: also compare the index with the rows of prompt_history (a row indexed twice, or not at all, fails)
        conn.execute("INSERT INTO prompt_history_fts (prompt_history_fts, rank) VALUES ('integrity-check', 1)")
        (rows,) = conn.execute("SELECT count(*) FROM prompt_history").fetchone()
        (documents,) = conn.execute("SELECT count(*) FROM prompt_history_fts_docsize").fetchone()
        flags = conn.execute("SELECT * FROM app_settings WHERE key = ?", (BULK_WRITE_KEY,)).fetchall()
    return rows, documents, flags


def _found(path, word: str) -> list[int]:
    with closing(sqlite3.connect(path)) as conn:
        return [row[0] for row in conn.execute(
            "SELECT rowid FROM prompt_history_fts WHERE prompt_history_fts MATCH ? ORDER BY rowid", (word,)
        )]


def test_save_many_indexes_every_new_row_exactly_once_beside_single_saves_and_skipped_duplicates(db_path):
    migrate(db_path)
    with SQLitePromptRepository(db_path) as repo:
        repo.save(make_record(uid="single-1", original_idea="alpha single"))
        batch = [make_record(uid=f"bulk-{i}", original_idea=f"alpha bulk word{i}") for i in range(25)]
        assert repo.save_many(batch, batch_size=10) == 25  # three transactions
        again = [make_record(uid="bulk-3", original_idea="alpha duplicate"), make_record(uid="bulk-new", context="omega")]
        assert repo.save_many(again) == 1  # the duplicate uid is skipped and never indexed
        repo.save(make_record(uid="single-2", original_idea="alpha single again"))
    assert _index_state(db_path) == (28, 28, [])
    with closing(sqlite3.connect(db_path)) as conn:
        ids = dict(conn.execute("SELECT uid, id FROM prompt_history"))
    assert _found(db_path, "alpha") == sorted(record_id for uid, record_id in ids.items() if uid != "bulk-new")
    assert _found(db_path, "word7") == [ids["bulk-7"]] and _found(db_path, "omega") == [ids["bulk-new"]]
    assert _found(db_path, "duplicate") == []


def test_a_bulk_write_that_fails_leaves_neither_rows_nor_index_entries_nor_the_flag(db_path):
    import pytest

    from store.sqlite.search_index import bulk_indexed
    from store.sqlite.connection import connect

    migrate(db_path)
    with SQLitePromptRepository(db_path) as repo:
        repo.save_many([make_record(uid="kept", original_idea="kept here")])
    with closing(connect(db_path, 5000)) as conn:
        conn.execute("BEGIN IMMEDIATE")
        with pytest.raises(sqlite3.IntegrityError):
            with bulk_indexed(conn):
                conn.execute("INSERT INTO prompt_history (uid, timestamp, original_idea, improved_prompt, backend) "
                             "VALUES ('lost', '2026-01-01T00:00:00.000000+00:00', 'lost', 'p', 'zero-shot')")
                conn.execute("INSERT INTO prompt_history (uid, timestamp, original_idea, improved_prompt, backend) "
                             "VALUES ('bad', 'not a time', 'bad', 'p', 'zero-shot')")  # the CHECK refuses it
        conn.execute("ROLLBACK")
    assert _index_state(db_path) == (1, 1, [])
    assert _found(db_path, "lost") == [] and _found(db_path, "kept") == [1]


def test_a_rescore_leaves_the_index_alone_and_a_changed_text_is_indexed_anew(db_path):
    migrate(db_path)
    with SQLitePromptRepository(db_path) as repo:
        repo.save_many([make_record(uid=f"r{i}", original_idea=f"first draft {i}") for i in range(3)])
        with closing(sqlite3.connect(db_path)) as conn:
            before = conn.execute("SELECT count(*) FROM prompt_history_fts_data").fetchone()
        assert repo.update_quality([(1, 0.4, 2), (2, 0.5, 2)]) == 2
    with closing(sqlite3.connect(db_path)) as conn, conn:
        assert conn.execute("SELECT count(*) FROM prompt_history_fts_data").fetchone() == before  # not rewritten
        conn.execute("UPDATE prompt_history SET original_idea = 'second version' WHERE id = 3")
    assert _index_state(db_path) == (3, 3, [])
    assert _found(db_path, "second") == [3] and _found(db_path, "draft") == [1, 2]
