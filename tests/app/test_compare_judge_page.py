"""The pairwise judge on the Compare page through AppTest, against two fake OpenAI-compatible servers (the
improving model and the judge): how to enable it, an experiment started and judged from the page, judging an
experiment afterwards with the button, and the judge's columns in the CSV exports."""

from __future__ import annotations

import io
import sqlite3
from contextlib import closing
from pathlib import Path

import pandas as pd
import pytest

from tests.app._support import open_app, texts
from tests.app.test_compare_page import PAGE, seed_experiment
from tests.support.fake_openai import judge
from tests.support.judge_scenario import model_and_judge, prefers_the_expert, scripted_judge

IDEAS_JSONL = (b'{"idea": "Plan a garden for a shady yard"}\n'
               b'{"idea": "Write a haiku about rain", "context": "for kids"}\n'
               b'{"idea": "Summarise a lease agreement for a tenant"}\n')


@pytest.fixture
def servers(monkeypatch):
    with model_and_judge(monkeypatch, scripted_judge(biased="Write a haiku", junk="Summarise a lease")) as both:
        yield both


def sql(db_path: Path, query: str) -> list[tuple]:
    with closing(sqlite3.connect(db_path)) as conn:
        return conn.execute(query).fetchall()


def judge_table(at) -> pd.DataFrame | None:
    """The "Rubric and judge" table (AppTest does not expose a dataframe's key), or None."""
    return next((frame.value for frame in at.dataframe if "Source" in frame.value.columns), None)


def judge_row(at) -> pd.Series:
    table = judge_table(at)
    return table[table["Source"] == "Judge (openai/judge-model)"].iloc[0]


def test_without_a_judge_model_the_page_says_how_to_enable_one(app_db: Path) -> None:
    seed_experiment(app_db)
    at = open_app(PAGE)
    assert not at.exception
    assert "Pairwise judge: off" in texts(at) and "JUDGE_MODEL" in texts(at)
    assert judge_table(at) is None


def test_an_experiment_started_on_the_page_is_judged_and_shown_beside_the_rubric(app_db: Path, servers) -> None:
    model, judge_server = servers
    at = open_app(PAGE)
    at.segmented_control(key="compare_source").set_value("upload").run()
    at.file_uploader(key="compare_upload").set_value(("ideas.jsonl", IDEAS_JSONL, "application/jsonl")).run()
    assert any("up to **6 judge calls**" in info.value for info in at.info)
    at.button(key="compare_start").click().run()
    assert not at.exception
    assert len(model.requests) == 6 and judge_server.requests  # the judge never went to the improving model
    assert sql(app_db, "SELECT count(*) FROM judge_verdicts") == [(6,)]

    rubric = judge_table(at).iloc[0]
    assert (rubric["Source"], rubric["Few-shot wins"], rubric["Zero-shot wins"]) == ("Rubric (quality score)", 3, 0)
    row = judge_row(at)
    assert (row["Few-shot wins"], row["Ties"], row["Zero-shot wins"]) == (1, 1, 0)
    assert row["Few-shot win rate [95% CI]"] == "1.00 [0.21, 1.00]"  # Wilson for 1 of 1
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["Judge position consistency"], metrics["Judge agrees with the rubric"]) == ("0.50", "0.50")
    page = texts(at)
    assert "1 of 2 pairs" in page and "1 of 2 ideas" in page
    assert "Not counted: 1 pair(s) with an answer that is not A, B or tie (2 answer(s))" in page
    assert "Judge: **few-shot**" in page  # the drill-down's first idea: the garden


def test_an_experiment_run_without_a_judge_is_judged_with_the_button(app_db: Path, servers) -> None:
    experiment_id = seed_experiment(app_db)  # 12 ideas, judged by no one yet
    _, judge_server = servers
    judge_server.responder = judge(prefers_the_expert)
    at = open_app(PAGE)
    assert not at.exception
    assert judge_row(at)["Ties"] == 0 and "12 pair(s) not judged in both orders yet" in texts(at)
    at.button(key="compare_judge_run").click().run()
    assert not at.exception
    assert sql(app_db, "SELECT count(*), sum(status = 'answered') FROM judge_verdicts") == [(24, 24)]
    row = judge_row(at)
    assert (row["Few-shot wins"], row["Few-shot win rate [95% CI]"]) == (12, "1.00 [0.76, 1.00]")
    assert not [b for b in at.button if b.key == "compare_judge_run"]  # nothing left to ask
    assert experiment_id in texts(at)


def test_the_csv_exports_carry_the_judges_columns(app_db: Path, servers) -> None:
    from dashboard import _compare_data as data
    from pipeline.judge import ServiceJudge
    from pipeline.judging import judge_experiment
    from prompt_improver.settings import load_settings
    from prompt_improver.models import build_judge_lm
    from store.sqlite.experiments import SQLiteExperimentRepository

    experiment_id = seed_experiment(app_db)
    experiments = SQLiteExperimentRepository(app_db)
    judge_experiment(experiments, experiment_id, judge_one=ServiceJudge(lm=build_judge_lm(load_settings())),
                     judge_model="openai/judge-model", concurrency=4)
    view = data.experiment_view(str(app_db), 5000, experiment_id, 0, "openai/judge-model")
    summary = pd.read_csv(io.BytesIO(data.summary_csv(view["summary"])))
    assert set(summary["judge_model"]) == {"openai/judge-model"}
    assert set(summary["judge_few_shot_wins"]) == {12} and set(summary["judge_win_rate"]) == {1.0}
    items = pd.read_csv(io.BytesIO(data.rows_csv(view["rows"])))
    assert set(items["judge_outcome"]) == {"few-shot"}
    assert set(items["judge_zero_shot_first"]) == {"few-shot"} and set(items["judge_few_shot_first"]) == {"few-shot"}
    assert items["judge_note_zero_shot_first"].notna().all()
