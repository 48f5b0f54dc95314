"""Connections: every operation closes its own, one idle keeper holds the WAL, forked children work."""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from store.sqlite.migrations import migrate
from store.sqlite.repository import SQLitePromptRepository
from tests.support.builders import make_record


def open_files(path: Path) -> list[str]:
    """This process's open file descriptors on the database, its WAL and its shared-memory file."""
    names = {str(path), f"{path}-wal", f"{path}-shm"}
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target in names:
            found.append(target)
    return found


def test_operations_leave_no_connection_open_but_the_one_wal_keeper(db_path):
    migrate(db_path)
    repo = SQLitePromptRepository(db_path)
    repo.save(make_record())
    held = sorted(open_files(db_path))  # the keeper's (SQLite may keep a closed connection's fd for its locks)
    for n in range(50):
        repo.save(make_record(original_idea=f"idea number {n}"))
        repo.find_recent(limit=5)
        repo.search("number")
        repo.get_statistics()
        repo.health()
    assert sorted(open_files(db_path)) == held
    repo.close()
    assert open_files(db_path) == []


def test_the_wal_survives_between_operations_and_is_folded_in_once_the_repository_closes(db_path):
    migrate(db_path)
    repo = SQLitePromptRepository(db_path)
    repo.save(make_record())
    wal = Path(f"{db_path}-wal")
    assert wal.exists()
    repo.close()
    sqlite3.connect(db_path).close()  # the last connection to close checkpoints and removes the WAL
    assert not wal.exists()
    with closing(sqlite3.connect(db_path)) as conn:
        assert conn.execute("SELECT count(*) FROM prompt_history").fetchone() == (1,)


def test_a_repository_without_wal_holds_no_connection(db_path):
    migrate(db_path, wal=False)
    repo = SQLitePromptRepository(db_path, wal=False)
    repo.save(make_record())
    assert open_files(db_path) == []
    assert repo.health().journal_mode == "delete"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_can_use_the_repository_it_inherited(db_path):
    migrate(db_path)
    repo = SQLitePromptRepository(db_path)
    parent_record = repo.save(make_record(original_idea="saved by the parent"))
    pid = os.fork()
    if pid == 0:  # the child: save through the inherited object, report by exit status only
        status = 1
        try:
            child_record = repo.save(make_record(original_idea="saved by the child"))
            status = 0 if repo.get(child_record.id) == child_record else 2
        finally:
            os._exit(status)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert [r.original_idea for r in repo.find_recent()] == ["saved by the child", "saved by the parent"]
    assert repo.get(parent_record.id) == parent_record
    with closing(sqlite3.connect(db_path)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_save_many_commits_each_batch_before_reading_the_next(db_path):
    migrate(db_path)
    repo = SQLitePromptRepository(db_path)
    committed_when_asked: list[int] = []

    def records():
        for n in range(25):
            if n % 10 == 0:  # what another connection sees when the next batch starts being read
                with closing(sqlite3.connect(db_path)) as conn:
                    committed_when_asked.append(conn.execute("SELECT count(*) FROM prompt_history").fetchone()[0])
            yield make_record(original_idea=f"streamed idea {n}")

    assert repo.save_many(records(), batch_size=10) == 25
    assert committed_when_asked == [0, 10, 20]
