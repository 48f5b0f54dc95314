"""The analytics on a history the user may not write or read: a precise message naming the fix.

As in `test_store_errors.py`, a forked child drops to `nobody` (root ignores file modes). The child loads
DuckDB's sqlite extension from a copy it can read (the venv may sit below a root-only directory), and the
fixture files are written and closed by the parent before the child attaches them: no process here has
the file open through `sqlite3` while DuckDB reads it.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from store.analytics.engine import Analytics
from store.analytics.extension import EXTENSION_PATH_VARIABLE, wheel_extension_path
from tests.integration.test_store_errors import run_unprivileged
from tests.support.analytics_db import create_history, record_at


@pytest.fixture
def shared_dir(monkeypatch) -> Iterator[Path]:
    """A directory `nobody` can reach, holding a readable copy of the sqlite extension."""
    directory = Path(tempfile.mkdtemp(prefix="analytics-permissions-"))
    directory.chmod(0o755)
    extension = directory / "sqlite_scanner.duckdb_extension"
    shutil.copyfile(wheel_extension_path(), extension)
    extension.chmod(0o644)
    monkeypatch.setenv(EXTENSION_PATH_VARIABLE, str(extension))
    try:
        yield directory
    finally:
        for path in [directory, *directory.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        shutil.rmtree(directory)


def _kpis(path: Path):
    def operation():
        with Analytics(path) as analytics:
            assert analytics.kpis()["count"] == 1

    return operation


def test_a_readable_history_works_for_an_ordinary_user(shared_dir):
    path = create_history(shared_dir / "history.db", [record_at("2026-01-10 10:00:00")])
    path.chmod(0o666)
    for suffix in ("-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    shared_dir.chmod(0o777)
    assert run_unprivileged(_kpis(path)) == "ok"


def test_a_read_only_wal_history_names_the_file_and_the_fix(shared_dir):
    path = create_history(shared_dir / "history.db", [record_at("2026-01-10 10:00:00")])
    path.chmod(0o444)
    report = run_unprivileged(_kpis(path))
    assert report.startswith(f"RepositoryConnectionError: cannot read {path} for analytics ("), report
    assert "SQLite must write the -wal and -shm files beside a WAL database even to read it" in report
    assert f"{path} is not writable by this user; make it writable (e.g. chmod u+w {path})" in report


def test_an_unreadable_history_names_the_file_and_the_fix(shared_dir):
    path = create_history(shared_dir / "history.db", [record_at("2026-01-10 10:00:00")])
    path.chmod(0o000)
    report = run_unprivileged(_kpis(path))
    assert report == (
        f"RepositoryConnectionError: cannot read {path}: the file is not readable by this user; make it readable "
        f"(e.g. chmod u+rw {path})"
    )
