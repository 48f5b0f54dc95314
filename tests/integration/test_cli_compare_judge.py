"""`prompt-improver compare` with a pairwise judge, end to end: a real SQLite file, two fake OpenAI-compatible
servers on 127.0.0.1 (the improving model, and the judge at JUDGE_API_BASE), stored verdicts checked with raw SQL.

The improving model answers few-shot well and zero-shot weakly; the judge is scripted per idea: consistent,
biased towards whichever candidate is shown first, or answering junk."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from prompt_improver.cli import main
from tests.support.fake_openai import judge, status
from tests.support.judge_scenario import model_and_judge, prefers_the_expert, scripted_judge


@pytest.fixture
def servers(monkeypatch):
    """(model server, judge server), configured through the environment."""
    with model_and_judge(monkeypatch, scripted_judge(biased="Explain compound interest", junk="Draft a checklist")) as both:
        yield both


def sql(db_path: Path, query: str, *params) -> list[tuple]:
    with closing(sqlite3.connect(db_path)) as conn:
        return conn.execute(query, params).fetchall()


def test_compare_json_carries_the_judges_win_rate_consistency_and_agreement(eval_file, db_path, servers, capsys):
    model, judge_server = servers
    assert main(["compare", "--eval-set", str(eval_file), "--json", "--db", str(db_path)]) == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    assert "compare: judge openai/judge-model: 4 pairs × 2 orders, 8 judge calls" in captured.err
    assert len(model.requests) == 8  # the judge never went to the improving model
    judge_result = summary["judge"]
    assert judge_result["model"] == "openai/judge-model"
    assert (judge_result["pairs"], judge_result["judged_pairs"], judge_result["unparsed_pairs"]) == (4, 3, 1)
    assert (judge_result["unparsed_answers"], judge_result["pending_pairs"], judge_result["failed_calls"]) == (2, 0, 0)
    assert (judge_result["few_shot_wins"], judge_result["ties"], judge_result["zero_shot_wins"]) == (2, 1, 0)
    # Wilson for 2 of 2: low = (1 + z²/4 − z·sqrt(z²/16)) / (1 + z²/2) with z = 1.96
    assert judge_result["win_rate"] == 1.0 and judge_result["win_rate_high"] == 1.0
    assert judge_result["win_rate_low"] == pytest.approx(0.3424, abs=1e-4)
    assert (judge_result["consistent_pairs"], judge_result["consistency"]) == (2, pytest.approx(2 / 3))
    assert summary["metrics"]["quality"]["wins"] == 4  # the rubric prefers few-shot on every idea…
    assert (judge_result["agreeing_items"], judge_result["rubric_items"]) == (2, 3)  # …the judge on two of three

    stored = sql(db_path, "SELECT item_index, first_backend, status, choice FROM judge_verdicts "
                          "WHERE judge_model = 'openai/judge-model' ORDER BY item_index, first_backend")
    assert stored == [
        (0, "few-shot", "answered", "A"), (0, "zero-shot", "answered", "B"),
        (1, "few-shot", "answered", "A"), (1, "zero-shot", "answered", "B"),
        (2, "few-shot", "answered", "A"), (2, "zero-shot", "answered", "A"),
        (3, "few-shot", "unparsed", None), (3, "zero-shot", "unparsed", None),
    ]
    assert "Both prompts have strengths" in sql(db_path, "SELECT error FROM judge_verdicts WHERE status = 'unparsed'")[0][0]


def test_the_readable_summary_states_the_judges_numbers(eval_file, db_path, servers, capsys):
    assert main(["compare", "--eval-set", str(eval_file), "--db", str(db_path)]) == 0
    out = capsys.readouterr().out
    assert "Judge openai/judge-model (each pair asked in both orders" in out
    assert "few-shot won 2 of 2 ideas the judge decided (win rate 1.00 [0.34, 1.00]), 1 tie" in out
    assert "position consistency 0.67 [0.21, 0.94] (2 of 3 pairs)" in out
    assert "agreement with the rubric 0.67 [0.21, 0.94] (2 of 3 ideas)" in out
    assert "not counted: 1 pair(s) with an answer that is not A, B or tie (2 answer(s))" in out


def test_judge_calls_are_cached_and_a_resume_asks_only_the_failed_ones(eval_file, db_path, servers, capsys):
    _, judge_server = servers
    failures = {"left": 3}
    consistent = judge(prefers_the_expert)

    def flaky(body):  # the first three judge calls get an HTTP 500
        answer = consistent(body)
        if answer is not None and failures["left"] > 0:
            failures["left"] -= 1
            return status(500, "the judge is overloaded")
        return answer

    judge_server.responder = flaky
    assert main(["compare", "--eval-set", str(eval_file), "--concurrency", "1", "--json", "--db", str(db_path)]) == 0
    first = capsys.readouterr()
    summary = json.loads(first.out)
    assert (summary["judge"]["failed_calls"], summary["judge"]["pending_pairs"]) == (3, 2)
    assert "warning: 3 of 8 judge calls failed" in first.err and f"--resume {summary['experiment_id']}" in first.err
    assert "the judge is overloaded" in first.err
    asked = len(judge_server.requests)

    assert main(["compare", "--resume", summary["experiment_id"], "--json", "--db", str(db_path)]) == 0
    resumed = json.loads(capsys.readouterr().out)
    assert len(judge_server.requests) == asked + 3  # only the three failed questions
    assert (resumed["judge"]["judged_pairs"], resumed["judge"]["few_shot_wins"], resumed["judge"]["failed_calls"]) == (
        4, 4, 0)
    assert sql(db_path, "SELECT count(*), sum(status = 'answered') FROM judge_verdicts") == [(8, 8)]

    assert main(["compare", "--resume", summary["experiment_id"], "--json", "--db", str(db_path)]) == 0
    capsys.readouterr()
    assert len(judge_server.requests) == asked + 3  # every verdict is cached now: no judge call at all


def test_a_judge_configured_after_the_experiment_judges_it_on_resume(eval_file, db_path, servers, monkeypatch, capsys):
    _, judge_server = servers
    monkeypatch.delenv("JUDGE_MODEL")
    assert main(["compare", "--eval-set", str(eval_file), "--json", "--db", str(db_path)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["judge"] is None and judge_server.requests == []
    assert summary["status"] == "completed"

    monkeypatch.setenv("JUDGE_MODEL", "openai/judge-model")
    assert main(["compare", "--resume", summary["experiment_id"], "--json", "--db", str(db_path)]) == 0
    assert json.loads(capsys.readouterr().out)["judge"]["judged_pairs"] == 3
    monkeypatch.delenv("JUDGE_MODEL")  # stored verdicts stay visible without the setting
    assert main(["compare", "--show", summary["experiment_id"], "--json", "--db", str(db_path)]) == 0
    assert json.loads(capsys.readouterr().out)["judge"]["model"] == "openai/judge-model"


def test_an_unusable_judge_stops_compare_before_any_model_call(eval_file, db_path, servers, monkeypatch, capsys):
    model, _ = servers
    monkeypatch.setenv("JUDGE_MODEL", "openai/")
    assert main(["compare", "--eval-set", str(eval_file), "--db", str(db_path)]) == 1
    err = capsys.readouterr().err
    assert err == ("error: the judge cannot be used (JUDGE_MODEL='openai/'): model 'openai/' has a provider prefix "
                   "but no model id after it\n")
    assert model.requests == []


def test_a_rejected_judge_key_is_a_failed_call_naming_judge_api_key(eval_file, db_path, servers, capsys):
    _, judge_server = servers
    judge_server.responder = lambda body: status(401, "invalid api key", retry_after=None)
    assert main(["compare", "--eval-set", str(eval_file), "--json", "--db", str(db_path)]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["judge"]["failed_calls"] == 8
    assert "warning: 8 of 8 judge calls failed" in captured.err and "check JUDGE_API_KEY" in captured.err
