"""What the service checks before and around the model call: input, configuration, timing, scoring."""

from __future__ import annotations

import pytest
from dspy.utils.dummies import DummyLM

from pipeline.errors import InvalidIdea, ModelNotConfigured
from pipeline.metrics import score_improvement
from pipeline.normalize import normalize_prediction
from pipeline.programs import load_program
from pipeline.service import improve
from store.memory import InMemoryPromptRepository
from store.record import BackendType
from tests.support.fake_openai import FakeOpenAIServer, good_fields

IDEA = "Design a rollout plan for feature flags in our web app"


@pytest.fixture
def program():
    return load_program(BackendType.ZERO_SHOT)


def _call(program, lm, repo=None, idea=IDEA, context="", **kwargs):
    module, version = program
    return improve(
        idea, context, BackendType.ZERO_SHOT, program=module, program_version=version, lm=lm,
        repo=repo if repo is not None else InMemoryPromptRepository(), model_version="dummy", **kwargs,
    )


@pytest.mark.parametrize("idea", ["", "  hi  ", "abc\x00def ghi", "x" * 20_001])
def test_an_invalid_idea_is_refused_before_any_request_reaches_the_model(idea, program):
    from pipeline.lm import build_lm

    with FakeOpenAIServer() as server:
        lm = build_lm("openai/fake-model", api_base=server.base_url, api_key="test", max_retries=0)
        with pytest.raises(InvalidIdea):
            _call(program, lm, idea=idea)
        assert server.requests == []


def test_no_model_configured_explains_how_to_configure_one(program):
    with pytest.raises(ModelNotConfigured, match="LLM_MODEL"):
        _call(program, None)


def test_a_bug_in_the_program_is_not_disguised_as_a_model_failure():
    def broken_program(**inputs):
        return {}["improved_prompt"]

    with pytest.raises(KeyError):
        improve(IDEA, program=broken_program, program_version="v", lm=DummyLM([]), repo=InMemoryPromptRepository(),
                model_version="dummy")


class _SlowSaveRepository(InMemoryPromptRepository):
    """Saving moves the test clock on by 7 s: time spent storing must not count as model latency."""

    def __init__(self, now: list[float]) -> None:
        super().__init__()
        self._now = now

    def save(self, record):
        self._now[0] += 7.0
        return super().save(record)


def test_latency_covers_the_program_call_only(program):
    module, version = program
    now = [100.0]
    reads: list[float] = []

    def clock() -> float:
        now[0] += 0.5  # every reading costs 0.5 s, so time before and after the call would show up
        reads.append(now[0])
        return now[0]

    def timed_program(**inputs):
        now[0] += 1.25  # the model takes 1.25 s
        return module(**inputs)

    repo = _SlowSaveRepository(now)
    outcome = improve(
        IDEA, program=timed_program, program_version=version, lm=DummyLM([good_fields(IDEA)]),
        repo=repo, model_version="dummy", clock=clock,
    )
    # Two readings around the call: 0.5 (the second reading) + 1.25 (the model); not the 7 s save.
    assert len(reads) == 2
    assert outcome.record.latency_ms == pytest.approx(1750.0)
    assert outcome.saved and repo.get(outcome.record.id).latency_ms == pytest.approx(1750.0)


def test_the_record_carries_normalised_fields_quality_and_experiment(program):
    fields = {**good_fields(IDEA), "confidence": "85%", "guardrails": "- Ship behind a flag\n- Roll back in 5 min"}
    repo = InMemoryPromptRepository()
    outcome = _call(program, DummyLM([fields]), repo=repo, context="  Team of 4  ", experiment_id="exp-1")

    record = outcome.record
    assert record.confidence == pytest.approx(0.85)
    assert record.guardrails == ("Ship behind a flag", "Roll back in 5 min")
    assert record.context == "Team of 4"
    assert record.experiment_id == "exp-1"
    assert record.program_version == program[1]
    assert record.quality == score_improvement(IDEA, normalize_prediction(fields | {"confidence": 0.85}))
    assert repo.get(record.id) == record


def test_the_backend_name_is_checked_like_the_idea(program):
    module, version = program
    with pytest.raises(InvalidIdea, match="backend"):
        improve(IDEA, "", "three-shot", program=module, program_version=version, lm=DummyLM([]),
                repo=InMemoryPromptRepository(), model_version="dummy")


def test_a_model_answer_with_a_lone_surrogate_is_saved_not_lost(program, db_path, tmp_path):
    # Before normalisation replaced it, SQLite refused the record and then the outbox crashed on it too.
    import sqlite3
    from contextlib import closing

    from pipeline.outbox import Outbox
    from store.sqlite.migrations import migrate
    from store.sqlite.repository import SQLitePromptRepository

    migrate(db_path)
    repo = SQLitePromptRepository(db_path)
    outbox = Outbox(tmp_path / "history.db.outbox.jsonl")
    try:
        outcome = _call(program, DummyLM([{**good_fields(IDEA), "role": "Release manager for caf\udce9 apps"}]),
                        repo=repo, outbox=outbox)
    finally:
        repo.close()
    assert outcome.saved and not outbox.path.exists()
    with closing(sqlite3.connect(db_path)) as conn, conn:
        assert conn.execute("SELECT role FROM prompt_history").fetchall() == [("Release manager for caf\ufffd apps",)]
