"""The judge runner over the in-memory fakes (the experiment repository and the history): which candidate is
shown as A in each order, what is stored for answers, junk and failures, and what stops it."""

from __future__ import annotations

import threading

import pytest

from pipeline.errors import ModelNotConfigured
from pipeline.judge import JudgeAnswer, JudgeFailed
from pipeline.judging import judge_experiment
from store.experiments import Experiment, ExperimentRun, InMemoryExperimentRepository
from store.memory import InMemoryPromptRepository
from tests.support.builders import make_record

IDEAS = (("Plan a team offsite for twelve engineers", ""), ("Summarise a lease agreement", "tenant in Berlin"),
         ("Write a haiku about rain", "for kids"))


@pytest.fixture
def experiments() -> InMemoryExperimentRepository:
    """An experiment of three ideas whose first two have both records; the third only zero-shot's."""
    history = InMemoryPromptRepository()
    repo = InMemoryExperimentRepository(history)
    repo.create(Experiment(id="e1", name="", eval_set_hash="h", repeats=1, items=IDEAS, planned=6))
    for index, (idea, context) in enumerate(IDEAS):
        for backend in ("zero-shot", "few-shot") if index < 2 else ("zero-shot",):
            record = history.save(make_record(original_idea=idea, context=context, backend=backend,
                                              role=f"{backend} role", experiment_id="e1"))
            repo.record_run(ExperimentRun("e1", index, 0, backend, "succeeded", idea, context, record_uid=record.uid))
    return repo


def test_each_pair_is_asked_in_both_orders_with_the_right_candidate_first(experiments):
    asked = []
    lock = threading.Lock()

    def judge_one(idea, context, a, b):
        with lock:
            asked.append((idea, context, a.role, b.role))
        return JudgeAnswer("A", "the first is better", "A")

    result = judge_experiment(experiments, "e1", judge_one=judge_one, judge_model="j", concurrency=3)
    assert (result.planned, result.attempted, result.answered, result.cached) == (4, 4, 4, 0)
    assert sorted(asked) == sorted([
        (IDEAS[0][0], "", "zero-shot role", "few-shot role"), (IDEAS[0][0], "", "few-shot role", "zero-shot role"),
        (IDEAS[1][0], IDEAS[1][1], "zero-shot role", "few-shot role"),
        (IDEAS[1][0], IDEAS[1][1], "few-shot role", "zero-shot role"),
    ])  # the third idea has no few-shot record: nothing to judge
    assert {(v.item_index, v.first.value, v.preferred.value) for v in experiments.verdicts("e1")} == {
        (0, "zero-shot", "zero-shot"), (0, "few-shot", "few-shot"), (1, "zero-shot", "zero-shot"),
        (1, "few-shot", "few-shot")}  # "always A": each order prefers a different backend


def test_junk_is_kept_and_not_asked_again_while_a_failure_is_retried(experiments):
    calls = []

    def flaky(idea, context, a, b):
        calls.append(idea)
        if idea == IDEAS[0][0]:
            return JudgeAnswer(None, None, "It depends on the reader")
        raise JudgeFailed("judge: the model server failed (HTTP 5xx)")

    first = judge_experiment(experiments, "e1", judge_one=flaky, judge_model="j", concurrency=1)
    assert (first.unparsed, first.failed) == (2, 2) and "HTTP 5xx" in first.errors[0]
    assert {v.status for v in experiments.verdicts("e1") if v.item_index == 0} == {"unparsed"}
    assert experiments.verdicts("e1")[0].error == "It depends on the reader"

    second = judge_experiment(experiments, "e1", judge_one=lambda *args: JudgeAnswer("B", None, "B"),
                              judge_model="j", concurrency=1)
    assert (second.attempted, second.answered, second.cached) == (2, 2, 2)
    other_judge = judge_experiment(experiments, "e1", judge_one=lambda *args: JudgeAnswer("tie", None, "tie"),
                                   judge_model="another/judge", concurrency=1)
    assert other_judge.attempted == 4  # the cache is per judge model


def test_a_judge_that_is_not_configured_stops_the_run(experiments):
    def unconfigured(*args):
        raise ModelNotConfigured("no judge model is configured (set JUDGE_MODEL)")

    with pytest.raises(ModelNotConfigured):
        judge_experiment(experiments, "e1", judge_one=unconfigured, judge_model="j", concurrency=1)
    assert experiments.verdicts("e1") == []


def test_a_bug_in_the_judge_is_stored_as_a_failed_call_and_logged(experiments, caplog):
    def buggy(*args):
        raise ValueError("unexpected shape")

    result = judge_experiment(experiments, "e1", judge_one=buggy, judge_model="j", concurrency=2)
    assert result.failed == 4 and all(v.error == "unexpected shape" for v in experiments.verdicts("e1"))
    assert "unexpected error judging item" in caplog.text
