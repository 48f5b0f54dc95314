"""Nothing is lost: a store that fails for real sends records to the outbox, and they come back exactly once.

Every failure here is real (a file that is not a database, a deleted directory, a newer schema, a read-only
file written by an unprivileged child process); the model is DSPy's DummyLM. Rows are checked with raw SQL.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from contextlib import closing
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from dspy.utils.dummies import DummyLM

from pipeline.outbox import Outbox
from pipeline.programs import load_program
from pipeline.service import improve, replay_outbox_at_start
from store.errors import RepositoryConnectionError, RepositoryConstraintError
from store.memory import InMemoryPromptRepository
from store.sqlite.migrations import migrate
from store.record import BackendType
from store.sqlite.schema import SCHEMA_VERSION
from store.sqlite.repository import SQLitePromptRepository
from tests.support.builders import make_record
from tests.support.fake_openai import good_fields
from tests.support.unprivileged import run_as_nobody


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def db(data_dir: Path) -> Path:
    path = data_dir / "history.db"
    migrate(path)
    return path


@pytest.fixture
def repo(db: Path):
    repository = SQLitePromptRepository(db)
    yield repository
    repository.close()


@pytest.fixture
def outbox(db: Path) -> Outbox:
    # Where the app puts it: beside the database (Settings.outbox_path).
    return Outbox(db.with_name(db.name + ".outbox.jsonl"))


def _improve(idea: str, *, repo, outbox, repo_error=None):
    program, version = load_program(BackendType.ZERO_SHOT)
    return improve(
        idea, "", BackendType.ZERO_SHOT, program=program, program_version=version,
        lm=DummyLM([good_fields(idea)]), repo=repo, model_version="dummy", outbox=outbox, repo_error=repo_error,
    )


def _uids(db: Path) -> list[str]:
    with closing(sqlite3.connect(db)) as conn, conn:
        return [uid for (uid,) in conn.execute("SELECT uid FROM prompt_history ORDER BY id")]


def _outbox_uids(outbox: Outbox) -> list[str]:
    if not outbox.path.exists():
        return []
    return [json.loads(line)["uid"] for line in outbox.path.read_text(encoding="utf-8").splitlines()]


def _replace_with_non_database(db: Path) -> None:
    for sidecar in (db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        sidecar.unlink(missing_ok=True)
    db.unlink()
    db.write_bytes(b"these are somebody's holiday notes, not a database\n" * 200)


def _repair_non_database(db: Path) -> None:
    db.rename(db.with_name("history.db.broken"))
    migrate(db)


def _remove_directory(db: Path) -> None:
    shutil.rmtree(db.parent)


def _repair_directory(db: Path) -> None:
    migrate(db)


def _bump_schema(db: Path) -> None:
    with closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("PRAGMA user_version = 999")


def _restore_schema(db: Path) -> None:
    with closing(sqlite3.connect(db)) as conn, conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


BREAKAGES = {
    "file is not a database": (_replace_with_non_database, _repair_non_database, "not an SQLite database"),
    "directory removed": (_remove_directory, _repair_directory, "cannot open"),
    "newer schema": (_bump_schema, _restore_schema, "newer"),
}


@pytest.mark.parametrize("breakage", list(BREAKAGES))
def test_a_failing_store_keeps_the_record_in_the_outbox_and_replays_it_once_repaired(breakage, db, repo, outbox):
    breaking, repairing, symptom = BREAKAGES[breakage]
    breaking(db)

    kept = _improve("Write onboarding docs for our data pipeline", repo=repo, outbox=outbox)

    assert kept.saved is False
    assert kept.kept_in_outbox
    assert kept.record.improved_prompt == good_fields("Write onboarding docs for our data pipeline")["improved_prompt"]
    assert symptom in kept.persistence_error
    assert str(outbox.path) in kept.persistence_error
    assert _outbox_uids(outbox) == [kept.record.uid]

    repairing(db)
    later = _improve("Draft a postmortem for last night's outage", repo=repo, outbox=outbox)

    assert later.saved and later.replayed == 1
    assert sorted(_uids(db)) == sorted([kept.record.uid, later.record.uid])
    assert _outbox_uids(outbox) == []
    assert outbox.replay(repo) == 0
    assert len(_uids(db)) == 2


def test_replaying_twice_stores_each_record_once(db, repo, outbox):
    records = [make_record(original_idea=f"Idea number {n} for replay") for n in range(3)]
    for record in records:
        outbox.append(record, "store was down")
    assert outbox.replay(repo) == 3
    assert outbox.replay(repo) == 0
    assert _uids(db) == [record.uid for record in records]


def test_a_crash_between_saving_and_truncating_does_not_duplicate(db, repo, outbox):
    record = make_record()
    outbox.append(record, "store was down")
    repo.save(record)  # the replay saved it, then the process died before rewriting the outbox

    assert outbox.replay(repo) == 1  # it leaves the outbox: the store already has it
    assert _uids(db) == [record.uid]
    assert _outbox_uids(outbox) == []


def test_replay_stops_at_the_first_store_failure_and_keeps_the_rest(db, repo, outbox):
    records = [make_record(original_idea=f"Idea number {n} for replay") for n in range(3)]
    for record in records:
        outbox.append(record, "store was down")
    _bump_schema(db)

    assert outbox.replay(repo) == 0
    assert _outbox_uids(outbox) == [record.uid for record in records]

    _restore_schema(db)
    assert replay_outbox_at_start(repo, outbox) == 3
    assert _uids(db) == [record.uid for record in records]


def test_a_repository_that_could_not_be_opened_still_returns_the_improvement(outbox):
    outcome = _improve(
        "Plan a migration to Postgres", repo=None, outbox=outbox,
        repo_error="data/history.db has schema version 999, newer than 3",
    )
    assert outcome.saved is False
    assert "schema version 999" in outcome.persistence_error
    assert [record.uid for record in outbox.pending()] == [outcome.record.uid]


def test_when_the_outbox_fails_too_the_user_still_gets_the_improvement_and_both_failures(db, repo, tmp_path):
    _bump_schema(db)
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the outbox's directory should be")
    outbox = Outbox(blocker / "history.db.outbox.jsonl")

    outcome = _improve("Write a privacy notice for our app", repo=repo, outbox=outbox)

    assert outcome.saved is False and not outcome.kept_in_outbox
    assert outcome.record.role == good_fields("x")["role"]
    assert "newer" in outcome.persistence_error
    assert "outbox" in outcome.persistence_error and "not-a-directory" in outcome.persistence_error


def test_records_replayed_at_start_keep_their_original_timestamp_and_fields(db, repo, outbox):
    record = make_record(guardrails=("line one\nline two", "plain"), confidence=None, quality=0.31)
    outbox.append(record, "store was down")

    assert replay_outbox_at_start(repo, outbox) == 1
    stored = repo.find_recent(limit=1)[0]
    assert stored.uid == record.uid
    assert stored.timestamp == record.timestamp
    assert (stored.guardrails, stored.confidence, stored.quality) == (record.guardrails, None, 0.31)


class RefusingRepository(InMemoryPromptRepository):
    """The in-memory fake with scripted failures: a store error from the n-th save, or a constraint error."""

    def __init__(self, *, fail_from_save: int | None = None, refuse_uid: str | None = None) -> None:
        super().__init__()
        self.saves = 0
        self.fail_from_save = fail_from_save
        self.refuse_uid = refuse_uid

    def save(self, record):
        self.saves += 1
        if self.fail_from_save is not None and self.saves >= self.fail_from_save:
            raise RepositoryConnectionError("database is locked")
        if record.uid == self.refuse_uid:
            raise RepositoryConstraintError(f"CHECK constraint failed for uid {record.uid}")
        return super().save(record)


def test_a_failure_midway_keeps_the_unsaved_records_in_order(outbox):
    records = [make_record(original_idea=f"Idea number {n} for replay") for n in range(4)]
    for record in records:
        outbox.append(record, "store was down")
    repo = RefusingRepository(fail_from_save=3)

    assert outbox.replay(repo) == 2
    assert _outbox_uids(outbox) == [record.uid for record in records[2:]]
    assert [stored.uid for stored in repo.find_recent(limit=10)][::-1] == [record.uid for record in records[:2]]


def test_a_record_the_store_refuses_is_set_aside_not_dropped_and_does_not_block_the_rest(outbox):
    records = [make_record(original_idea=f"Idea number {n} for replay") for n in range(3)]
    for record in records:
        outbox.append(record, "store was down")
    repo = RefusingRepository(refuse_uid=records[1].uid)

    assert outbox.replay(repo) == 2
    assert _outbox_uids(outbox) == []
    corrupt = [json.loads(line) for line in outbox.corrupt_path.read_text(encoding="utf-8").splitlines()]
    assert [json.loads(entry["line"])["uid"] for entry in corrupt] == [records[1].uid]
    assert "CHECK constraint failed" in corrupt[0]["problem"]


# -- a read-only database file, for real -----------------------------------------------------------------

@pytest.fixture
def shared_db() -> Iterator[Path]:
    """A migrated database in a directory the unprivileged child can reach (tmp_path is root-only 0700)."""
    directory = Path(tempfile.mkdtemp(prefix="outbox-read-only-"))
    directory.chmod(0o777)
    path = directory / "history.db"
    migrate(path)
    try:
        yield path
    finally:
        shutil.rmtree(directory)


def _improve_in_child(db: Path, idea: str) -> dict:
    def operation() -> dict:
        repo = SQLitePromptRepository(db)
        try:
            outcome = _improve(idea, repo=repo, outbox=Outbox(db.with_name(db.name + ".outbox.jsonl")))
        finally:
            repo.close()
        return {"saved": outcome.saved, "kept": outcome.kept_in_outbox, "error": outcome.persistence_error,
                "replayed": outcome.replayed, "uid": outcome.record.uid, "prompt": outcome.record.improved_prompt}

    return run_as_nobody(operation)


def test_a_read_only_database_file_keeps_the_record_in_the_outbox_and_it_is_stored_once_when_writable(shared_db):
    outbox = Outbox(shared_db.with_name(shared_db.name + ".outbox.jsonl"))
    shared_db.chmod(0o444)

    kept = _improve_in_child(shared_db, "Write onboarding docs for our data pipeline")

    assert "unexpected" not in kept, kept
    assert (kept["saved"], kept["kept"]) == (False, True)
    assert kept["prompt"] == good_fields("Write onboarding docs for our data pipeline")["improved_prompt"]
    assert str(shared_db) in kept["error"] and str(outbox.path) in kept["error"]
    assert _uids(shared_db) == []
    assert _outbox_uids(outbox) == [kept["uid"]]

    # The repair: SQLite created the -wal and -shm sidecars with the database file's (read-only) mode, so
    # they need write permission back too (`chmod u+w history.db*`).
    for path in shared_db.parent.glob(shared_db.name + "*"):
        path.chmod(0o666)
    later = _improve_in_child(shared_db, "Draft a postmortem for last night's outage")

    assert "unexpected" not in later, later
    assert (later["saved"], later["replayed"]) == (True, 1), later
    assert sorted(_uids(shared_db)) == sorted([kept["uid"], later["uid"]])
    assert _outbox_uids(outbox) == []
