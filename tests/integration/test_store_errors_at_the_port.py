"""sqlite3's errors stop at the port: every public method of the SQLite adapter raises the store's own errors,
and the improve service, which catches only those, keeps the improvement in the outbox (a read-only file:
tests/integration/test_outbox_replay.py)."""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest
from dspy.utils.dummies import DummyLM

from pipeline.breaker import CircuitBreaker
from pipeline.outbox import Outbox
from pipeline.programs import load_program
from pipeline.service import improve
from store.errors import RepositoryError
from store.record import BackendType
from store.sqlite.migrations import migrate
from store.sqlite.repository import SQLitePromptRepository
from store.timestamps import utc_now
from tests.support.builders import make_record
from tests.support.fake_openai import good_fields

IDEA = "Write release notes for version 2 of the mobile app"
NOW = utc_now()
CALLS = {
    "save": lambda repo, tmp: repo.save(make_record()),
    "save_many": lambda repo, tmp: repo.save_many([make_record()]),
    "update_quality": lambda repo, tmp: repo.update_quality([(1, 0.5, 1)]),
    "records_to_rescore": lambda repo, tmp: repo.records_to_rescore(1),
    "count_to_rescore": lambda repo, tmp: repo.count_to_rescore(1),
    "get": lambda repo, tmp: repo.get(1),
    "find_recent": lambda repo, tmp: repo.find_recent(),
    "find_by_date_range": lambda repo, tmp: repo.find_by_date_range(NOW - timedelta(days=1), NOW),
    "search": lambda repo, tmp: repo.search("release"),
    "get_statistics": lambda repo, tmp: repo.get_statistics(),
    "count_older_than": lambda repo, tmp: repo.count_older_than(30),
    "backup": lambda repo, tmp: repo.backup(tmp / "backup.db"),
    "delete_older_than": lambda repo, tmp: repo.delete_older_than(30),
    "vacuum": lambda repo, tmp: repo.vacuum(),
    "health": lambda repo, tmp: repo.health(),
    "get_setting": lambda repo, tmp: repo.get_setting("retention_days"),
    "set_setting": lambda repo, tmp: repo.set_setting("retention_days", "30"),
}


def test_every_public_method_of_the_adapter_is_covered_here() -> None:
    public = {name for name in vars(SQLitePromptRepository) if not name.startswith("_")}
    assert public - {"close"} == set(CALLS)  # a new method must be added to CALLS (and so be checked)


@pytest.mark.parametrize("method", sorted(CALLS))
def test_a_file_that_is_not_a_database_raises_the_stores_error_from_every_method(tmp_path: Path, method: str) -> None:
    path = tmp_path / "history.db"
    path.write_bytes(b"these are notes, not an SQLite database " * 200)
    repo = SQLitePromptRepository(path, wal=False)

    with pytest.raises(RepositoryError) as raised:
        CALLS[method](repo, tmp_path)

    assert not isinstance(raised.value, sqlite3.Error)
    assert str(path) in str(raised.value)


@pytest.mark.parametrize("method", ["save", "save_many", "update_quality", "set_setting", "delete_older_than"])
def test_a_write_to_a_locked_database_raises_the_stores_error(db_path: Path, method: str) -> None:
    migrate(db_path, wal=False)
    repo = SQLitePromptRepository(db_path, busy_timeout_ms=0, wal=False)
    with closing(sqlite3.connect(db_path, isolation_level=None)) as holder:
        holder.execute("BEGIN EXCLUSIVE")
        with pytest.raises(RepositoryError, match="locked by another writer") as raised:
            CALLS[method](repo, db_path.parent)
        holder.execute("ROLLBACK")
    assert isinstance(raised.value.__cause__, sqlite3.OperationalError)


def test_a_locked_database_reaches_the_service_as_our_error_and_the_improvement_waits_in_the_outbox(
    db_path: Path,
) -> None:
    migrate(db_path, wal=False)
    repo = SQLitePromptRepository(db_path, busy_timeout_ms=0, wal=False)
    outbox = Outbox(db_path.with_name("history.db.outbox.jsonl"))
    breaker = CircuitBreaker()
    program, version = load_program(BackendType.ZERO_SHOT)
    with closing(sqlite3.connect(db_path, isolation_level=None)) as holder:
        holder.execute("BEGIN EXCLUSIVE")  # another writer holds the file past the busy timeout
        outcome = improve(
            IDEA, program=program, program_version=version, backend=BackendType.ZERO_SHOT,
            lm=DummyLM([good_fields(IDEA)]), repo=repo, model_version="dummy", outbox=outbox, breaker=breaker,
        )
        holder.execute("ROLLBACK")

    assert not outcome.saved and outcome.kept_in_outbox
    assert "locked by another writer" in outcome.persistence_error
    assert [record.uid for record in outbox.pending()] == [outcome.record.uid]
    assert breaker.snapshot().consecutive_failures == 1
    assert repo.find_recent() == []


def test_the_pipeline_names_no_database_driver() -> None:
    # The service and the outbox catch `RepositoryError` only: a driver's exception past the port would mean
    # an adapter forgot to translate it (and a PostgreSQL history would slip through an `except sqlite3.Error`).
    pipeline = Path(__file__).resolve().parents[2] / "pipeline"
    drivers = re.compile(r"^\s*(import|from)\s+(sqlite3|psycopg|duckdb)\b|\b(sqlite3|psycopg)\.\w*Error\b", re.M)
    offenders = [str(path.relative_to(pipeline.parent)) for path in sorted(pipeline.rglob("*.py"))
                 if drivers.search(path.read_text(encoding="utf-8"))]
    assert offenders == []
