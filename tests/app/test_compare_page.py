"""The Compare page through AppTest: empty state, a seeded experiment, starting and resuming one against the
fake OpenAI-compatible server, and the unpaired History tab (its samples come from the analytics worker)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest
import streamlit as st
from dspy.utils.dummies import DummyLM

from pipeline.evalsets import EvalItem
from pipeline.experiments import ServiceImprover, run_experiment
from pipeline.programs import load_program
from store.sqlite.experiments import SQLiteExperimentRepository
from store.sqlite.migrations import migrate
from store.record import BackendType
from store.sqlite.repository import SQLitePromptRepository
from store.timestamps import utc_now
from tests.app._support import open_app, texts
from tests.support.builders import make_record
from tests.support.fake_openai import FakeOpenAIServer, good_fields, status
from tests.support.judge_scenario import weak_fields

PAGE = "views/compare.py"
IDEAS = [EvalItem(f"Write a short onboarding guide for new {team} staff") for team in (
    "warehouse", "kitchen", "front desk", "IT support", "sales", "finance", "design", "legal", "nursing", "library",
    "security", "marketing")]


@pytest.fixture
def model_env(monkeypatch: pytest.MonkeyPatch):
    def configure(server: FakeOpenAIServer) -> None:
        monkeypatch.setenv("LLM_MODEL", "openai/fake-model")
        monkeypatch.setenv("LLM_API_BASE", server.base_url)
        monkeypatch.setenv("LLM_MAX_RETRIES", "0")
        monkeypatch.setenv("LLM_TIMEOUT_S", "20")

    return configure


def seed_experiment(db_path: Path, *, fail_last: bool = False, ideas: list[EvalItem] = IDEAS) -> str:
    """An experiment over `ideas` where few-shot answers well and zero-shot weakly (the last idea fails on both
    backends when `fail_last`)."""
    migrate(db_path)
    history = SQLitePromptRepository(db_path)
    known = ideas[:-1] if fail_last else ideas
    programs = {b: load_program(b) for b in BackendType}
    by_backend = {
        BackendType.ZERO_SHOT: ServiceImprover(programs=programs, lm=DummyLM({i.idea: weak_fields(i.idea) for i in known}),
                                               repo=history, model_version="openai/fake-model"),
        BackendType.FEW_SHOT: ServiceImprover(programs=programs, lm=DummyLM({i.idea: good_fields(i.idea) for i in known}),
                                              repo=history, model_version="openai/fake-model"),
    }
    result = run_experiment(
        SQLiteExperimentRepository(db_path), items=ideas, repeats=1, name="seeded", concurrency=4,
        improve_one=lambda item, backend, eid: by_backend[backend](item, backend, eid),
        **by_backend[BackendType.FEW_SHOT].versions,
    )
    history.close()
    return result.experiment.id


def sql(db_path: Path, query: str, *params) -> list[tuple]:
    with closing(sqlite3.connect(db_path)) as conn:
        return conn.execute(query, params).fetchall()


def test_without_experiments_the_page_explains_what_an_experiment_is(app_db: Path) -> None:
    at = open_app(PAGE)
    assert not at.exception
    page = texts(at)
    assert "No experiments yet" in page
    assert "prompt-improver compare" in page
    assert "No language model is configured" in page
    assert at.button(key="compare_start").disabled


def test_a_completed_experiment_shows_the_verdict_table_charts_and_both_outputs(app_db: Path) -> None:
    experiment_id = seed_experiment(app_db)
    at = open_app(PAGE)
    assert not at.exception
    assert at.selectbox(key="compare_experiment").value == experiment_id
    assert "few-shot is more confident by +0.31 [+0.31, +0.31]" in at.success[0].value
    assert "few-shot is better on quality" in at.success[0].value
    assert "n = 12" in at.success[0].value
    table = at.dataframe[0].value
    confidence = table[table["Metric"] == "Confidence"].iloc[0]
    assert confidence["Difference [95% CI]"] == "+0.310 [+0.310, +0.310]"
    assert confidence["W / T / L"] == "12 / 0 / 0"
    page = texts(at)
    assert "Senior subject-matter expert and technical writer" in page and "Assistant" in page
    assert at.selectbox(key="compare_item").value == 1
    assert len(at.get("download_button")) == 2


def test_four_pairs_with_a_clear_difference_say_too_few_to_decide_and_what_to_add(app_db: Path) -> None:
    seed_experiment(app_db, ideas=IDEAS[:4])
    at = open_app(PAGE)
    assert not at.exception
    (headline,) = [box.value for box in at.info if "pairs" in box.value]
    assert "too few pairs to decide (n = 4)" in headline and "add at least 6 more evaluation ideas" in headline
    assert "no detectable difference" not in texts(at)
    table = at.dataframe[0].value
    assert table[table["Metric"] == "Confidence"].iloc[0]["W / T / L"] == "4 / 0 / 0"


def test_a_partial_experiment_counts_its_failures_and_resumes_from_the_page(app_db: Path, model_env) -> None:
    experiment_id = seed_experiment(app_db, fail_last=True)
    with FakeOpenAIServer() as server:
        model_env(server)
        at = open_app(PAGE)
        assert not at.exception
        assert "**2 failed**" in texts(at)
        at.button(key="compare_resume").click().run()
        assert len(server.requests) == 2  # only the failed idea, through both backends
    assert not at.exception
    assert sql(app_db, "SELECT status, succeeded, failed FROM experiments WHERE id = ?", experiment_id) == [
        ("completed", 24, 0)
    ]
    assert "**0 failed**" in texts(at)


def test_starting_a_tiny_experiment_states_the_calls_first_then_runs_it(app_db: Path, model_env) -> None:
    migrate(app_db)
    history = SQLitePromptRepository(app_db)
    for idea in ("Plan a team offsite for twelve engineers", "Summarise a lease agreement for a tenant"):
        history.save(make_record(original_idea=idea))
    history.close()
    with FakeOpenAIServer() as server:
        model_env(server)
        at = open_app(PAGE)
        at.segmented_control(key="compare_source").set_value("history").run()
        at.number_input(key="compare_sample_size").set_value(2).run()
        assert any("**4 model calls**" in info.value for info in at.info)
        assert server.requests == []
        at.button(key="compare_start").click().run()
        assert len(server.requests) == 4
    assert not at.exception
    ((experiment_id, status_, planned, succeeded),) = sql(app_db, "SELECT id, status, planned, succeeded FROM experiments")
    assert (status_, planned, succeeded) == ("completed", 4, 4)
    assert sql(app_db, "SELECT count(*) FROM prompt_history WHERE experiment_id = ?", experiment_id) == [(4,)]
    assert at.selectbox(key="compare_experiment").value == experiment_id


def test_a_failing_model_during_an_experiment_is_counted_not_an_exception(app_db: Path, model_env) -> None:
    migrate(app_db)
    history = SQLitePromptRepository(app_db)
    history.save(make_record(original_idea="Plan a team offsite for twelve engineers"))
    history.close()
    with FakeOpenAIServer(default=status(500, "the fake provider is down")) as server:
        model_env(server)
        at = open_app(PAGE)
        at.segmented_control(key="compare_source").set_value("history").run()
        at.button(key="compare_start").click().run()
    assert not at.exception
    assert sql(app_db, "SELECT status, failed FROM experiments") == [("partial", 2)]
    assert "**2 failed**" in texts(at)
    assert at.button(key="compare_resume")


def test_the_history_tab_compares_the_ranges_records_without_pairing(app_db: Path) -> None:
    migrate(app_db)
    history = SQLitePromptRepository(app_db)
    now = utc_now()
    for n in range(12):
        history.save(make_record(backend="zero-shot", quality=0.5 + n / 100, timestamp=now - timedelta(hours=n + 1)))
        history.save(make_record(backend="few-shot", quality=0.7 + n / 100, timestamp=now - timedelta(hours=n + 1)))
    history.close()
    at = open_app(PAGE)
    at.tabs[0]  # the page has tabs
    at.session_state["compare_tab"] = "History (unpaired)"
    at.run()
    assert not at.exception
    table = at.dataframe[0].value
    quality = table[table["Metric"] == "Quality"].iloc[0]
    assert quality["Records (zero / few)"] == "12 / 12"
    assert quality["Difference of means [95% CI]"].startswith("+0.200 [")


def test_an_uploaded_set_is_planned_or_refused_with_the_line_or_demonstration_named(app_db: Path, model_env) -> None:
    from pipeline.demonstrations import read_demonstration_records

    demo_idea = read_demonstration_records()[0]["original_idea"]
    with FakeOpenAIServer() as server:
        model_env(server)
        at = open_app(PAGE)
        at.segmented_control(key="compare_source").set_value("upload").run()
        uploader = at.file_uploader(key="compare_upload")
        uploader.set_value(("ideas.jsonl", b'{"idea": "Plan a garden for a shady yard"}\n'
                                           b'{"idea": "Write a haiku about rain", "context": "for kids"}\n',
                            "application/jsonl")).run()
        assert any("**4 model calls**" in info.value for info in at.info)
        assert not at.button(key="compare_start").disabled

        at.file_uploader(key="compare_upload").set_value(
            ("ideas.csv", f'idea,context\nPlan a garden for a shady yard,\n"{demo_idea.lower()}",\n'.encode(), "text/csv")
        ).run()
        assert any(demo_idea.lower() in error.value for error in at.error)
        assert at.button(key="compare_start").disabled

        at.file_uploader(key="compare_upload").set_value(("ideas.jsonl", b'{"idea": "ok"}\n', "application/jsonl")).run()
        assert any("ideas.jsonl line 1" in error.value for error in at.error)
        assert server.requests == []
    assert not at.exception


def test_an_experiment_whose_records_mix_metric_versions_says_so(app_db: Path) -> None:
    seed_experiment(app_db)
    at = open_app(PAGE)
    assert not any("metric versions are mixed" in str(element.value) for element in at.warning)  # all current

    with closing(sqlite3.connect(app_db)) as conn, conn:  # as if two of them were scored by an older metric
        conn.execute("UPDATE prompt_history SET metric_version = 1 WHERE id IN (1, 2)")
    st.cache_data.clear()  # another process changed the file: this session would see it after the 30 s TTL
    at = open_app(PAGE)
    assert not at.exception
    warning = " ".join(str(element.value) for element in at.warning)
    assert "2 metric versions are mixed" in warning and "22 by the current metric" in warning
    assert "2 by metric v1" in warning


def test_the_history_tab_says_when_its_range_mixes_metric_versions(app_db: Path) -> None:
    migrate(app_db)
    history = SQLitePromptRepository(app_db)
    now = utc_now()
    for n, version in enumerate((1, 2, 2)):
        history.save(make_record(quality=0.6, metric_version=version, timestamp=now - timedelta(hours=n + 1)))
    history.close()
    at = open_app(PAGE)
    at.session_state["compare_tab"] = "History (unpaired)"
    at.run()
    assert not at.exception
    assert "2 by the current metric (v2), 1 by metric v1" in " ".join(str(element.value) for element in at.warning)
