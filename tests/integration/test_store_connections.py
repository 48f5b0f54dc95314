"""Connections: each thread keeps one (closed when the thread ends or the repository closes), one idle
keeper holds the WAL, forked children work, a replaced file is never written through a stale handle."""

from __future__ import annotations

import gc
import os
import shutil
import sqlite3
import threading
from contextlib import closing
from pathlib import Path

import pytest

from store.errors import RepositoryConstraintError, RepositoryError
from store.sqlite.migrations import migrate
from store.sqlite.repository import SQLitePromptRepository
from store.sqlite.transactions import Transactions
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


def operations(repo: SQLitePromptRepository, n: int) -> None:
    repo.save(make_record(original_idea=f"idea number {n}"))
    repo.find_recent(limit=5)
    repo.search("number")
    repo.get_statistics()
    repo.health()


def test_repeated_operations_open_no_more_files_and_close_releases_them_all(db_path):
    migrate(db_path)
    repo = SQLitePromptRepository(db_path)
    operations(repo, 0)
    # This thread's connection and the keeper's (SQLite may keep a closed connection's fd for its locks).
    held = sorted(open_files(db_path))
    for n in range(50):
        operations(repo, n)
    assert sorted(open_files(db_path)) == held
    repo.close()
    assert open_files(db_path) == []


def test_a_repository_dropped_without_close_releases_its_files(db_path):
    migrate(db_path)
    repo = SQLitePromptRepository(db_path)
    operations(repo, 0)
    del repo  # as a command that ends without close() does
    assert open_files(db_path) == []


def test_the_connection_of_a_thread_that_ended_is_closed(db_path):
    migrate(db_path)
    repo = SQLitePromptRepository(db_path)

    def in_a_thread(n: int) -> list[str]:
        thread = threading.Thread(target=operations, args=(repo, n))
        thread.start()
        thread.join()
        gc.collect()
        return sorted(open_files(db_path))

    operations(repo, 0)
    held = in_a_thread(0)  # SQLite keeps a closed connection's fd for reuse while others hold locks
    for n in range(20):  # Streamlit runs every script run in a new thread
        assert in_a_thread(n) == held, n
    assert len(repo.find_recent(limit=100)) == 22
    repo.close()
    assert open_files(db_path) == []


def test_close_in_one_thread_closes_the_connections_of_live_threads_which_then_open_new_ones(db_path):
    migrate(db_path)
    repo = SQLitePromptRepository(db_path)
    saved, closed = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            repo.save(make_record(original_idea="before close"))
            saved.set()
            closed.wait(10)
            repo.save(make_record(original_idea="after close"))
        except RepositoryError as error:  # reported to the test thread below
            errors.append(error)

    thread = threading.Thread(target=worker)
    thread.start()
    assert saved.wait(10)
    repo.close()
    assert open_files(db_path) == []  # the live thread's connection too
    closed.set()
    thread.join()
    assert errors == []
    assert {r.original_idea for r in repo.find_recent()} == {"before close", "after close"}
    repo.close()


def test_a_history_replaced_at_its_path_gets_the_next_save_not_the_old_file(db_path, tmp_path):
    # Without WAL: a WAL file stays at the old name and would be read into the new file (SQLite's own
    # warning against renaming an open database), so only a rollback-journal history can be swapped live.
    migrate(db_path, wal=False)
    repo = SQLitePromptRepository(db_path, wal=False)
    repo.save(make_record(original_idea="in both files"))
    shutil.copyfile(db_path, tmp_path / "backup.db")
    repo.save(make_record(original_idea="only in the old file"))
    moved = tmp_path / "moved-away.db"
    os.rename(db_path, moved)  # the user restores a backup: the old file goes, the copy takes its place
    os.rename(tmp_path / "backup.db", db_path)
    repo.save(make_record(original_idea="after the restore"))
    assert [r.original_idea for r in repo.find_recent()] == ["after the restore", "in both files"]
    repo.close()
    with closing(sqlite3.connect(moved)) as conn:
        assert conn.execute("SELECT count(*) FROM prompt_history").fetchone() == (2,)


def test_an_operation_inside_another_on_the_same_thread_gets_its_own_connection_instead_of_waiting(db_path):
    migrate(db_path)
    transactions = Transactions(db_path, 200, wal=True)
    with transactions.run(write=False) as outer, transactions.run(write=False) as inner:
        assert inner is not outer
        assert inner.execute("SELECT count(*) FROM prompt_history").fetchone() == (0,)
    with transactions.run(write=True) as again:
        assert again is outer  # the thread's connection, free again
    transactions.close()
    assert open_files(db_path) == []


def test_a_failed_operation_leaves_the_next_one_working(db_path):
    migrate(db_path)
    repo = SQLitePromptRepository(db_path)
    stored = repo.save(make_record(original_idea="kept safe"))
    with pytest.raises(RepositoryConstraintError):  # fails inside the transaction: rolled back
        repo.update_quality([(stored.id, 1.5, 1)])
    assert repo.get(stored.id) == stored
    assert repo.save(make_record(original_idea="the next idea")).id == stored.id + 1
    repo.close()


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


def test_a_repository_without_wal_holds_no_keeper_and_close_releases_its_connection(db_path):
    migrate(db_path, wal=False)
    repo = SQLitePromptRepository(db_path, wal=False)
    repo.save(make_record())
    assert open_files(db_path) == [str(db_path)]  # this thread's connection only: no keeper, no WAL
    assert repo.health().journal_mode == "delete"
    repo.close()
    assert open_files(db_path) == []


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
