"""Contract tests for the experiment repository: the SQLite adapter and the in-memory fake alike."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import datetime, timedelta, timezone

import pytest

from store.errors import InvalidRecord, RepositoryError
from store.experiments import (
    Experiment,
    ExperimentNotFound,
    ExperimentRun,
    InMemoryExperimentRepository,
)
from store.memory import InMemoryPromptRepository
from store.migrations import migrate
from store.record import BackendType
from store.sqlite_experiments import SQLiteExperimentRepository
from store.sqlite_repository import SQLitePromptRepository
from tests.support.builders import make_record

ITEMS = (("Plan a team offsite for twelve engineers", ""), ("Summarise a lease agreement", "tenant in Berlin"))


def make_experiment(**overrides) -> Experiment:
    fields = dict(
        id="exp000000001",
        name="first comparison",
        eval_set_hash="hash-abc",
        repeats=1,
        items=ITEMS,
        model_version="openai/fake-model",
        program_version_zero_shot="zs1",
        program_version_few_shot="fs1",
        planned=4,
        created=datetime(2026, 2, 1, 9, 30, tzinfo=timezone.utc),
    )
    fields.update(overrides)
    return Experiment(**fields)


def succeeded(item: int, backend: str, uid: str, repeat: int = 0) -> ExperimentRun:
    return ExperimentRun("exp000000001", item, repeat, backend, "succeeded", ITEMS[item][0], record_uid=uid)


def failed(item: int, backend: str, error: str = "HTTP 500 from the provider") -> ExperimentRun:
    return ExperimentRun("exp000000001", item, 0, backend, "failed", ITEMS[item][0], error=error)


@pytest.fixture(params=["sqlite", "memory", pytest.param("postgres", marks=pytest.mark.postgres)])
def repos(request, db_path):
    """(experiment repository, history repository) of one kind."""
    if request.param == "postgres":
        from store.postgres.experiments import PostgresExperimentRepository
        from store.postgres.migrations import migrate as migrate_postgres
        from store.postgres.repository import PostgresPromptRepository

        url = request.getfixturevalue("postgres_url")
        migrate_postgres(url)
        history = PostgresPromptRepository(url)
        request.addfinalizer(history.close)
        return PostgresExperimentRepository(history), history
    if request.param == "sqlite":
        migrate(db_path)
        return SQLiteExperimentRepository(db_path), SQLitePromptRepository(db_path)
    history = InMemoryPromptRepository()
    return InMemoryExperimentRepository(history), history


def test_a_created_experiment_reads_back_with_every_field(repos):
    experiments, _ = repos
    experiments.create(make_experiment())
    assert experiments.get("exp000000001") == make_experiment()
    assert experiments.get("missing") is None


def test_experiments_are_listed_newest_first(repos):
    experiments, _ = repos
    start = datetime(2026, 2, 1, tzinfo=timezone.utc)
    for day, ident in enumerate(["old", "middle", "new"]):
        experiments.create(make_experiment(id=ident, created=start + timedelta(days=day)))
    assert [e.id for e in experiments.list_experiments()] == ["new", "middle", "old"]
    assert [e.id for e in experiments.list_experiments(limit=1)] == ["new"]


def test_a_duplicate_experiment_id_is_refused(repos):
    experiments, _ = repos
    experiments.create(make_experiment())
    with pytest.raises(RepositoryError):
        experiments.create(make_experiment(name="again"))


def test_set_status_counts_the_latest_attempt_of_each_run(repos):
    experiments, _ = repos
    experiments.create(make_experiment())
    experiments.record_run(succeeded(0, "zero-shot", "u1"))
    experiments.record_run(failed(0, "few-shot"))
    experiments.record_run(failed(1, "zero-shot"))
    first = experiments.set_status("exp000000001", "partial")
    assert (first.status, first.succeeded, first.failed) == ("partial", 1, 2)

    experiments.record_run(succeeded(0, "few-shot", "u2"))  # the resume fixed one failure
    second = experiments.set_status("exp000000001", "partial")
    assert (second.succeeded, second.failed) == (2, 1)
    assert [(r.item_index, r.backend, r.status) for r in experiments.runs("exp000000001")] == [
        (0, BackendType.FEW_SHOT, "succeeded"),
        (0, BackendType.ZERO_SHOT, "succeeded"),
        (1, BackendType.ZERO_SHOT, "failed"),
    ]


def test_a_failed_run_keeps_its_error_message(repos):
    experiments, _ = repos
    experiments.create(make_experiment())
    experiments.record_run(failed(1, "few-shot", error="the model answered prose"))
    (run,) = experiments.runs("exp000000001")
    assert run.error == "the model answered prose"
    assert run.record_uid is None


def test_runs_and_status_of_an_unknown_experiment_are_refused(repos):
    experiments, _ = repos
    with pytest.raises(ExperimentNotFound):
        experiments.record_run(failed(0, "few-shot"))
    with pytest.raises(ExperimentNotFound):
        experiments.set_status("exp000000001", "completed")


def test_records_are_the_history_rows_tagged_with_the_experiment(repos):
    experiments, history = repos
    experiments.create(make_experiment())
    mine = history.save(make_record(experiment_id="exp000000001", backend="zero-shot"))
    history.save(make_record(experiment_id="another"))
    history.save(make_record())
    assert set(experiments.records("exp000000001")) == {mine.uid}
    assert experiments.records("exp000000001")[mine.uid].backend == BackendType.ZERO_SHOT


def test_invalid_experiment_values_are_refused_with_the_value_named():
    with pytest.raises(InvalidRecord, match="'done'"):
        make_experiment(status="done")
    with pytest.raises(InvalidRecord, match="repeats"):
        make_experiment(repeats=0)
    with pytest.raises(InvalidRecord, match="record_uid"):
        ExperimentRun("e", 0, 0, "few-shot", "succeeded", "an idea")


def test_sqlite_rows_are_what_the_schema_promises(db_path):
    migrate(db_path)
    experiments = SQLiteExperimentRepository(db_path)
    experiments.create(make_experiment())
    experiments.record_run(succeeded(1, "few-shot", "uid-9"))
    experiments.set_status("exp000000001", "partial")
    with closing(sqlite3.connect(db_path)) as conn:
        row = conn.execute("SELECT created, status, planned, succeeded, failed, items FROM experiments").fetchone()
        run = conn.execute("SELECT item_index, repeat, backend, status, record_uid, idea FROM experiment_runs").fetchone()
    assert row == (
        "2026-02-01T09:30:00.000000+00:00", "partial", 4, 1, 0,
        '[["Plan a team offsite for twelve engineers", ""], ["Summarise a lease agreement", "tenant in Berlin"]]',
    )
    assert run == (1, 0, "few-shot", "succeeded", "uid-9", "Summarise a lease agreement")
