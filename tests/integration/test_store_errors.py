"""Every store error provoked for real, each with a message that names the file and the fix."""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import pytest

from store import (
    RepositoryConnectionError,
    RepositoryConstraintError,
    RepositoryError,
    SQLitePromptRepository,
)
from store.sqlite.migrations import migrate, schema_version
from tests.support.builders import make_record
from tests.support.unprivileged import run_as_nobody

def run_unprivileged(operation: Callable[[], object]) -> str:
    """Run `operation` as an ordinary user and return 'ok' or 'ErrorClass: message' (see run_as_nobody)."""

    def report() -> str:
        try:
            operation()
        except RepositoryError as error:
            return f"{type(error).__name__}: {error}"
        return "ok"

    result = run_as_nobody(report)
    return result if isinstance(result, str) else f"unexpected {result['unexpected']}"


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory an unprivileged child can reach (pytest's tmp_path sits under a root-only 0700 dir)."""
    directory = Path(tempfile.mkdtemp(prefix="store-permissions-"))
    directory.chmod(0o777)
    try:
        yield directory
    finally:
        for path in [directory, *directory.rglob("*")]:
            if path.is_dir():
                path.chmod(0o777)  # a test may have made it read-only
        shutil.rmtree(directory)


# -- cannot create or open ---------------------------------------------------------------------------


def test_a_directory_as_the_database_path_is_refused_with_the_fix(tmp_path):
    with pytest.raises(RepositoryConnectionError, match=f"{tmp_path} is a directory.*SQLITE_DB_PATH"):
        migrate(tmp_path)
    with pytest.raises(RepositoryConnectionError, match="is a directory"):
        SQLitePromptRepository(tmp_path).save(make_record())
    with pytest.raises(RepositoryConnectionError, match="is a directory"):
        SQLitePromptRepository(tmp_path).health()


def test_a_path_below_a_regular_file_is_refused(tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file")
    with pytest.raises(RepositoryConnectionError, match=f"{blocker} is a file, not a directory"):
        migrate(blocker / "history.db")


def test_a_directory_that_cannot_be_created_is_refused_naming_it():
    target = Path("/proc/prompt-improver-test/data/history.db")
    with pytest.raises(RepositoryConnectionError, match="cannot create the directory /proc/prompt-improver-test/data"):
        migrate(target)


def test_a_device_as_the_database_path_is_refused_naming_it():
    expected = (
        "/dev/null is not a regular file (a device, a pipe or a socket), so it cannot hold a database; point "
        "SQLITE_DB_PATH (or --db) at a file such as data/prompt_history.db"
    )
    with pytest.raises(RepositoryConnectionError) as raised:
        migrate(Path("/dev/null"))
    assert str(raised.value) == expected
    with pytest.raises(RepositoryConnectionError) as raised:
        SQLitePromptRepository(Path("/dev/null")).health()
    assert str(raised.value) == expected


def test_a_missing_database_is_an_error_not_a_new_empty_file(db_path):
    with pytest.raises(RepositoryConnectionError, match="does not exist.*run the migrations"):
        SQLitePromptRepository(db_path).find_recent()
    assert not db_path.exists()


def test_a_file_that_is_not_a_database_is_refused_and_left_alone(db_path):
    db_path.write_bytes(os.urandom(8192))
    before = db_path.read_bytes()
    with pytest.raises(RepositoryConnectionError, match="is not an SQLite database") as raised:
        migrate(db_path)
    assert isinstance(raised.value.__cause__, sqlite3.DatabaseError)
    with pytest.raises(RepositoryConnectionError, match="is not an SQLite database"):
        SQLitePromptRepository(db_path).get(1)
    with pytest.raises(RepositoryConnectionError, match="is not an SQLite database"):
        schema_version(db_path)
    assert db_path.read_bytes() == before


def test_a_read_only_database_file_is_refused_with_the_chmod_fix(shared_dir):
    path = shared_dir / "history.db"
    migrate(path)
    path.chmod(0o444)
    migrated = run_unprivileged(lambda: migrate(path))
    assert migrated.startswith("RepositoryConnectionError: ")
    assert str(path) in migrated and f"chmod u+w {path}" in migrated
    saved = run_unprivileged(lambda: SQLitePromptRepository(path).save(make_record()))
    assert saved.startswith("RepositoryConnectionError: ") and f"chmod u+w {path}" in saved


def test_an_unreadable_database_file_is_refused_with_the_read_permission_fix(shared_dir):
    path = shared_dir / "history.db"
    migrate(path)
    path.chmod(0o000)
    report = run_unprivileged(lambda: SQLitePromptRepository(path).find_recent())
    assert report == (
        f"RepositoryConnectionError: cannot open or create {path} (unable to open database file); the file is not "
        f"readable by this user: make it readable and writable (e.g. chmod u+rw {path})"
    )


def test_a_read_only_directory_is_refused_when_creating_the_database(shared_dir):
    directory = shared_dir / "locked"
    directory.mkdir()
    directory.chmod(0o555)
    report = run_unprivileged(lambda: migrate(directory / "history.db"))
    assert report.startswith("RepositoryConnectionError: ")
    assert f"the directory {directory} is not writable" in report and f"chmod u+w {directory}" in report


def test_a_wal_database_in_a_read_only_directory_is_refused(shared_dir):
    directory = shared_dir / "locked"
    directory.mkdir()
    path = directory / "history.db"
    migrate(path)
    path.chmod(0o666)
    directory.chmod(0o555)
    report = run_unprivileged(lambda: SQLitePromptRepository(path).save(make_record()))
    assert report.startswith("RepositoryConnectionError: ")
    assert f"{directory} is not writable" in report and "-wal" in report


# -- constraints and locks -----------------------------------------------------------------------------


def test_a_constraint_broken_through_the_repository_is_a_constraint_error(db_path):
    migrate(db_path)
    with pytest.raises(RepositoryConstraintError, match="NOT NULL constraint failed: app_settings.value") as raised:
        SQLitePromptRepository(db_path).set_setting("retention_days", None)
    assert isinstance(raised.value.__cause__, sqlite3.IntegrityError)
    assert str(db_path) in str(raised.value)


@pytest.mark.parametrize(
    "column, value",
    [
        ("timestamp", "2026-01-03 10:15:42"),
        ("timestamp", "2026-01-03T10:15:42.123456Z"),
        ("backend", "zero_shot"),
        ("guardrails", "Keep it short\nNo claims"),
        ("confidence", 1.5),
        ("latency_ms", -1.0),
    ],
)
def test_the_stored_schema_itself_refuses_values_the_record_refuses(db_path, column, value):
    migrate(db_path)
    row = {
        "uid": "u1", "timestamp": "2026-01-03T10:15:42.123456+00:00", "original_idea": "An idea",
        "improved_prompt": "A prompt", "backend": "few-shot", "guardrails": "[]", column: value,
    }
    with closing(sqlite3.connect(db_path)) as conn, pytest.raises(sqlite3.IntegrityError):
        conn.execute(
            f"INSERT INTO prompt_history ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})",
            tuple(row.values()),
        )


def test_a_writer_held_past_the_busy_timeout_is_a_repository_error_naming_the_setting(db_path):
    migrate(db_path)
    with closing(sqlite3.connect(db_path, isolation_level=None)) as blocker:
        blocker.execute("BEGIN IMMEDIATE")
        with pytest.raises(RepositoryError, match="locked.*SQLITE_BUSY_TIMEOUT_MS") as raised:
            SQLitePromptRepository(db_path, busy_timeout_ms=50).save(make_record())
        blocker.execute("ROLLBACK")
    assert not isinstance(raised.value, RepositoryConnectionError)
    assert isinstance(raised.value.__cause__, sqlite3.OperationalError)
