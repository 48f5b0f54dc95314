"""The experiment runner end to end through the real service and programs, DSPy's DummyLM, and SQLite.

The DummyLM answers by idea (`DummyLM({idea: fields})`): an idea it does not know gets an unusable
answer, which is how these tests make chosen items fail.
"""

from __future__ import annotations

import sqlite3
import threading
from contextlib import closing
from pathlib import Path

import pytest
from dspy.utils.dummies import DummyLM

from pipeline.errors import ModelNotConfigured
from pipeline.evalsets import EvalItem
from pipeline.experiment_results import paired_results, summarize
from pipeline.experiments import ExperimentMismatch, ServiceImprover, plan_calls, run_experiment
import pipeline.programs as _programs
from store.sqlite.experiments import SQLiteExperimentRepository
from store.sqlite.migrations import migrate
from store.record import BackendType
from store.sqlite.repository import SQLitePromptRepository
from tests.support.builders import make_record
from tests.support.fake_openai import good_fields

ITEMS = [
    EvalItem("Plan a volunteer schedule for a food bank", "weekends, 30 volunteers"),
    EvalItem("Write a welcome email for new gym members"),
    EvalItem("Explain compound interest to teenagers", "personal finance class"),
    EvalItem("Draft a checklist for moving to a new office", "team of 15"),
]


def answering(ideas) -> DummyLM:
    return DummyLM({item.idea: good_fields(item.idea) for item in ideas})


@pytest.fixture
def stores(db_path: Path):
    migrate(db_path)
    history = SQLitePromptRepository(db_path)
    yield SQLiteExperimentRepository(db_path), history
    history.close()


@pytest.fixture(scope="module")
def programs():
    return {backend: _programs.load_program(backend) for backend in BackendType}


def improver(history, programs, lm, model_version="dummy"):
    return ServiceImprover(programs=programs, lm=lm, repo=history, model_version=model_version)


def run(experiments, improve_one, **options):
    """run_experiment with the improver's model and program versions, as the composition roots call it."""
    return run_experiment(experiments, improve_one=improve_one, **(improve_one.versions | options))


def rows(db_path: Path, sql: str, *params) -> list[tuple]:
    with closing(sqlite3.connect(db_path)) as conn:
        return conn.execute(sql, params).fetchall()


def test_every_item_goes_through_both_backends_and_each_run_is_a_tagged_history_record(stores, programs, db_path):
    experiments, history = stores
    seen = []
    result = run(
        experiments, improver(history, programs, answering(ITEMS)), items=ITEMS, repeats=1, name="first",
        concurrency=3, progress=lambda done, total: seen.append((done, total)),
    )
    experiment_id = result.experiment.id
    assert (result.experiment.status, result.experiment.succeeded, result.experiment.failed) == ("completed", 8, 0)
    assert seen[0] == (0, 8) and seen[-1] == (8, 8) and [d for d, _ in seen] == sorted(d for d, _ in seen)
    tagged = rows(db_path, "SELECT backend, original_idea, uid FROM prompt_history WHERE experiment_id = ?",
                  experiment_id)
    assert sorted((b, i) for b, i, _ in tagged) == sorted((b.value, item.idea) for b in BackendType for item in ITEMS)
    linked = rows(db_path, "SELECT r.backend, h.backend, r.idea, h.original_idea FROM experiment_runs r "
                  "JOIN prompt_history h ON h.uid = r.record_uid WHERE r.experiment_id = ?", experiment_id)
    assert len(linked) == 8 and all(rb == hb and ri == hi for rb, hb, ri, hi in linked)
    assert rows(db_path, "SELECT name, status, planned, succeeded, failed, model_version FROM experiments") == [
        ("first", "completed", 8, 8, 0, "dummy")
    ]


def test_failures_are_stored_and_counted_and_a_resume_runs_only_the_missing_ones(stores, programs, db_path):
    experiments, history = stores
    first = run_experiment(
        experiments, items=ITEMS, repeats=1, name="flaky",
        improve_one=improver(history, programs, answering(ITEMS[:3])), concurrency=2,
    )
    experiment_id = first.experiment.id
    assert (first.experiment.status, first.experiment.succeeded, first.experiment.failed) == ("partial", 6, 2)
    assert len(first.errors) == 2 and all(e.startswith("item 4 ") for e in first.errors)
    failed = rows(db_path, "SELECT item_index, backend, error FROM experiment_runs WHERE status = 'failed'")
    assert sorted((i, b) for i, b, _ in failed) == [(3, "few-shot"), (3, "zero-shot")]
    assert all(error for _, _, error in failed)
    assert summarize(experiments, experiment_id).failed_by_backend == {"zero-shot": 1, "few-shot": 1}

    lm = answering(ITEMS)
    second = run_experiment(
        experiments, items=None, repeats=None, improve_one=improver(history, programs, lm), concurrency=2,
        experiment_id=experiment_id,
    )
    assert (second.attempted, second.skipped, second.succeeded) == (2, 6, 2)
    asked = [entry["messages"][-1]["content"] for entry in lm.history]
    assert len(asked) == 2 and all(ITEMS[3].idea in content for content in asked)
    assert (second.experiment.status, second.experiment.succeeded, second.experiment.failed) == ("completed", 8, 0)
    assert rows(db_path, "SELECT count(*) FROM prompt_history WHERE experiment_id = ?", experiment_id) == [(8,)]


def test_an_interrupted_experiment_is_marked_and_resumes_without_duplicates(stores, programs, db_path):
    experiments, history = stores

    def stop_after_three(done, total):
        if done == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_experiment(experiments, items=ITEMS, repeats=1, improve_one=improver(history, programs, answering(ITEMS)),
                       concurrency=1, progress=stop_after_three)
    (experiment,) = experiments.list_experiments()
    assert experiment.status == "interrupted"
    assert 3 <= experiment.succeeded < 8

    result = run_experiment(experiments, items=ITEMS, repeats=1, experiment_id=experiment.id, concurrency=4,
                            improve_one=improver(history, programs, answering(ITEMS)))
    assert result.attempted == 8 - experiment.succeeded
    assert result.experiment.status == "completed"
    assert rows(db_path, "SELECT count(*) FROM prompt_history WHERE experiment_id = ?", experiment.id) == [(8,)]


def test_repeats_multiply_the_planned_calls_and_pairs_stay_one_per_idea(stores, programs):
    experiments, history = stores
    assert plan_calls(ITEMS, 3) == 24
    result = run_experiment(experiments, items=ITEMS[:2], repeats=2, concurrency=4,
                            improve_one=improver(history, programs, answering(ITEMS)))
    assert (result.experiment.planned, result.experiment.succeeded) == (8, 8)
    assert [(r.item_index, r.repeat) for r in paired_results(experiments, result.experiment.id)] == [
        (0, 0), (0, 1), (1, 0), (1, 1)
    ]
    assert summarize(experiments, result.experiment.id).comparison.n_pairs == 2


def test_a_resume_with_another_evaluation_set_or_model_is_refused(stores, programs):
    experiments, history = stores
    first = run_experiment(experiments, items=ITEMS[:1], repeats=1, concurrency=1,
                           improve_one=improver(history, programs, answering(ITEMS[:0])), model_version="model-a")
    with pytest.raises(ExperimentMismatch, match="another evaluation set"):
        run_experiment(experiments, items=ITEMS[1:2], repeats=1, concurrency=1, experiment_id=first.experiment.id,
                       improve_one=improver(history, programs, answering(ITEMS)))
    with pytest.raises(ExperimentMismatch, match="'model-a'"):
        run_experiment(experiments, items=None, repeats=None, concurrency=1, experiment_id=first.experiment.id,
                       improve_one=improver(history, programs, answering(ITEMS)), model_version="model-b")


def test_no_model_configured_stops_the_experiment_instead_of_failing_every_run(stores, programs, db_path):
    experiments, history = stores
    with pytest.raises(ModelNotConfigured):
        run_experiment(experiments, items=ITEMS, repeats=1, concurrency=2,
                       improve_one=improver(history, programs, lm=None))
    (experiment,) = experiments.list_experiments()
    assert experiment.status == "interrupted"
    assert rows(db_path, "SELECT count(*) FROM experiment_runs WHERE status = 'failed'") == [(0,)]


def test_summary_has_the_json_shape_the_cli_promises(stores, programs):
    experiments, history = stores
    result = run_experiment(experiments, items=ITEMS, repeats=1, concurrency=2,
                            improve_one=improver(history, programs, answering(ITEMS)))
    summary = summarize(experiments, result.experiment.id).to_dict()
    assert summary["experiment_id"] == result.experiment.id
    assert summary["n_pairs"] == 4 and summary["failed"] == 0
    assert "fewer than 10 pairs" in summary["warning"]
    for metric in ("quality", "confidence", "latency_ms"):
        assert {"mean_zero_shot", "mean_few_shot", "mean_difference", "ci_low", "ci_high", "p_value",
                "p_value_adjusted", "effect_size", "wins", "ties", "losses"} <= set(summary["metrics"][metric])
    # The same answer for both backends: quality and confidence tie on every idea.
    assert summary["metrics"]["quality"]["ties"] == 4
    assert summary["metrics"]["quality"]["mean_difference"] == 0


class _CountingImprover:
    """An `improve_one` that records how many calls are in flight; each waits for `batch` calls to overlap."""

    def __init__(self, batch: int) -> None:
        self.lock = threading.Lock()
        self.in_flight = 0
        self.most = 0
        self.together = threading.Barrier(batch)

    def __call__(self, item, backend, experiment_id):
        with self.lock:
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
        try:
            # Returns as soon as `batch` calls are here at once: this proves they run concurrently. The
            # timeout only matters when the runner is sequential, and then the run fails (and so the test).
            self.together.wait(timeout=60)
            return make_record(original_idea=item.idea, backend=backend, experiment_id=experiment_id)
        finally:
            with self.lock:
                self.in_flight -= 1


def test_runs_overlap_up_to_the_concurrency_limit_and_never_beyond_it(stores):
    experiments, _ = stores
    items = [EvalItem(f"Plan week {n} of a beginners' running course") for n in range(6)]  # 12 runs
    counting = _CountingImprover(batch=4)

    result = run_experiment(experiments, items=items, repeats=1, improve_one=counting, concurrency=4)

    assert (result.succeeded, result.failed) == (12, 0), result.errors
    assert counting.most == 4


def test_runs_whose_records_wait_in_the_outbox_are_explained_and_counted_once_replayed(stores, programs, db_path,
                                                                                      tmp_path):
    from pipeline.outbox import Outbox
    from store.errors import RepositoryConnectionError
    from store.memory import InMemoryPromptRepository

    class DownRepository(InMemoryPromptRepository):
        def save(self, record):
            raise RepositoryConnectionError("disk I/O error")

    experiments, history = stores
    outbox = Outbox(tmp_path / "history.db.outbox.jsonl")
    down = ServiceImprover(programs=programs, lm=answering(ITEMS), repo=DownRepository(), model_version="dummy",
                           outbox=outbox)
    result = run(experiments, down, items=ITEMS, repeats=1, concurrency=2)

    waiting = summarize(experiments, result.experiment.id).to_dict()
    assert (waiting["succeeded"], waiting["failed"], waiting["n_pairs"]) == (8, 0, 0)
    assert waiting["records_missing"] == 8
    assert "8 succeeded run(s) have no record in the history yet" in waiting["warning"]
    assert "outbox" in waiting["warning"]

    assert outbox.replay(history) == 8
    stored = summarize(experiments, result.experiment.id).to_dict()
    assert (stored["records_missing"], stored["n_pairs"]) == (0, 4)
    assert "outbox" not in (stored["warning"] or "")
