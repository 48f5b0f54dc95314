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
from store.judge_verdicts import JudgeVerdict
from store.memory import InMemoryPromptRepository
from store.sqlite.migrations import migrate
from store.record import BackendType
from store.sqlite.schema import MIGRATIONS
from store.sqlite.experiments import SQLiteExperimentRepository
from store.sqlite.repository import SQLitePromptRepository
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


# -- judge verdicts (the judge cache) -----------------------------------------------------------------

T_VERDICT = datetime(2026, 2, 1, 10, 0, tzinfo=timezone.utc)


def verdict(item: int = 0, first: str = "zero-shot", *, judge: str = "openai/judge", **overrides) -> JudgeVerdict:
    fields = dict(experiment_id="exp000000001", item_index=item, repeat=0, judge_model=judge, first=first,
                  zero_shot_uid=f"z{item}", few_shot_uid=f"f{item}", status="answered", choice="B",
                  reason="B names the audience", created=T_VERDICT)
    fields.update(overrides)
    return JudgeVerdict(**fields)


def test_verdicts_read_back_in_key_order_and_a_new_answer_replaces_the_old(repos):
    experiments, _ = repos
    experiments.create(make_experiment())
    experiments.record_verdict(verdict(1, "few-shot"))
    experiments.record_verdict(verdict(0, "few-shot", status="failed", choice=None, reason=None, error="HTTP 500"))
    experiments.record_verdict(verdict(0, "zero-shot", judge="anthropic/other", choice="tie"))
    experiments.record_verdict(verdict(0, "few-shot", choice="A"))  # the retry answered
    assert [(v.judge_model, v.item_index, v.first.value, v.status, v.choice) for v in
            experiments.verdicts("exp000000001")] == [
        ("anthropic/other", 0, "zero-shot", "answered", "tie"),
        ("openai/judge", 0, "few-shot", "answered", "A"),
        ("openai/judge", 1, "few-shot", "answered", "B"),
    ]
    assert experiments.verdicts("exp000000001")[1] == verdict(0, "few-shot", choice="A")
    assert experiments.verdicts("another") == []


def test_an_unparsed_verdict_keeps_what_the_judge_said(repos):
    experiments, _ = repos
    experiments.create(make_experiment())
    experiments.record_verdict(verdict(status="unparsed", choice=None, reason=None, error="I think both are fine"))
    (stored,) = experiments.verdicts("exp000000001")
    assert (stored.status, stored.choice, stored.error, stored.preferred) == (
        "unparsed", None, "I think both are fine", None)


def test_a_verdict_for_an_unknown_experiment_is_refused(repos):
    experiments, _ = repos
    with pytest.raises(ExperimentNotFound):
        experiments.record_verdict(verdict())


def test_a_verdict_maps_its_choice_to_the_backend_shown_in_that_position():
    assert verdict(first="zero-shot", choice="A").preferred is BackendType.ZERO_SHOT
    assert verdict(first="zero-shot", choice="B").preferred is BackendType.FEW_SHOT
    assert verdict(first="few-shot", choice="A").preferred is BackendType.FEW_SHOT
    assert verdict(first="few-shot", choice="tie").preferred == "tie"
    assert verdict().judges("z0", "f0") and not verdict().judges("z0", "other")


def test_invalid_verdicts_are_refused_with_the_value_named():
    with pytest.raises(InvalidRecord, match="'maybe'"):
        verdict(choice="maybe")
    with pytest.raises(InvalidRecord, match="choice exactly when it is answered"):
        verdict(status="failed")
    with pytest.raises(InvalidRecord, match="choice exactly when it is answered"):
        verdict(choice=None)
    with pytest.raises(InvalidRecord, match="judge_model"):
        verdict(judge="")
    with pytest.raises(InvalidRecord, match="'middle'"):
        verdict(first="middle")


def test_sqlite_verdict_rows_are_what_the_schema_promises(db_path):
    migrate(db_path)
    experiments = SQLiteExperimentRepository(db_path)
    experiments.create(make_experiment())
    experiments.record_verdict(verdict(1, "few-shot", choice="tie"))
    with closing(sqlite3.connect(db_path)) as conn:
        row = conn.execute("SELECT item_index, repeat, judge_model, first_backend, zero_shot_uid, few_shot_uid, "
                           "status, choice, reason, error, created FROM judge_verdicts").fetchone()
        with pytest.raises(sqlite3.IntegrityError):  # the schema itself refuses a choice without an answer
            conn.execute("INSERT INTO judge_verdicts (experiment_id, item_index, repeat, judge_model, first_backend, "
                         "zero_shot_uid, few_shot_uid, status, choice, created) VALUES ('exp000000001', 0, 0, 'j', "
                         "'zero-shot', 'z', 'f', 'failed', 'A', '2026-02-01T10:00:00.000000+00:00')")
    assert row == (1, 0, "openai/judge", "few-shot", "z1", "f1", "answered", "tie", "B names the audience", None,
                   "2026-02-01T10:00:00.000000+00:00")


def test_a_database_from_before_the_judge_gains_its_table_and_keeps_its_experiments(db_path):
    version = MIGRATIONS.index(next(m for m in MIGRATIONS if "judge_verdicts" in m)) + 1
    with closing(sqlite3.connect(db_path)) as conn, conn:
        for migration in MIGRATIONS[: version - 1]:
            conn.executescript(migration)
        conn.execute(f"PRAGMA user_version = {version - 1}")
    experiments = SQLiteExperimentRepository(db_path)
    with pytest.raises(RepositoryError):
        experiments.verdicts("exp000000001")  # no table yet: the file is from before the judge
    experiments.create(make_experiment())
    assert migrate(db_path) >= version
    assert experiments.get("exp000000001") == make_experiment()
    experiments.record_verdict(verdict())
    assert experiments.verdicts("exp000000001") == [verdict()]
