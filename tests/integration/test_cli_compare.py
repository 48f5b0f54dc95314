"""`prompt-improver compare` end to end: a real SQLite file, the fake OpenAI-compatible server on 127.0.0.1,
both a real subprocess and the in-process `main([...])`. Stored rows are checked with raw SQL."""

from __future__ import annotations

import json
import os
import pty
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from pipeline.demonstrations import read_demonstration_records
from prompt_improver.cli import main
from tests.support.fake_openai import FakeOpenAIServer, status

METRIC_KEYS = {"mean_zero_shot", "mean_few_shot", "mean_difference", "ci_low", "ci_high", "p_value",
               "p_value_adjusted", "effect_size", "wins", "ties", "losses"}


@pytest.fixture
def server():
    with FakeOpenAIServer() as fake:
        yield fake


@pytest.fixture
def model_env(server, monkeypatch) -> dict[str, str]:
    values = {"LLM_MODEL": "openai/fake-model", "LLM_API_BASE": server.base_url, "LLM_MAX_RETRIES": "0",
              "LLM_TIMEOUT_S": "20"}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def sql(db_path: Path, query: str, *params) -> list[tuple]:
    with closing(sqlite3.connect(db_path)) as conn:
        return conn.execute(query, params).fetchall()


def test_compare_json_in_a_subprocess_stores_the_experiment_and_tagged_history(eval_file, db_path, model_env, server):
    env = {**os.environ, **model_env}
    done = subprocess.run(
        [sys.executable, "-m", "prompt_improver.cli", "compare", "--eval-set", str(eval_file), "--repeats", "1",
         "--concurrency", "2", "--name", "smoke", "--json", "--db", str(db_path)],
        capture_output=True, text=True, env=env, timeout=240,
    )
    assert done.returncode == 0, done.stderr
    assert "4 ideas × 1 repeat × 2 backends = 8 model calls" in done.stderr
    assert "\r[" not in done.stderr  # no progress bar when stderr is not a terminal
    summary = json.loads(done.stdout)
    assert summary["n_pairs"] == 4 and summary["failed"] == 0 and summary["status"] == "completed"
    assert isinstance(summary["verdict"], str) and summary["verdict"]
    for metric in ("quality", "confidence", "latency_ms"):
        assert METRIC_KEYS <= set(summary["metrics"][metric])
    experiment_id = summary["experiment_id"]
    assert sql(db_path, "SELECT id, name, status, planned, succeeded, failed, model_version FROM experiments") == [
        (experiment_id, "smoke", "completed", 8, 8, 0, "openai/fake-model")
    ]
    assert sql(db_path, "SELECT backend, count(*) FROM prompt_history WHERE experiment_id = ? GROUP BY backend "
                        "ORDER BY backend", experiment_id) == [("few-shot", 4), ("zero-shot", 4)]
    assert len(server.requests) == 8


def test_progress_is_shown_on_a_terminal(eval_file, db_path, model_env):
    leader, follower = pty.openpty()
    with subprocess.Popen(
        [sys.executable, "-m", "prompt_improver.cli", "compare", "--eval-set", str(eval_file), "--json",
         "--db", str(db_path)],
        stdout=subprocess.PIPE, stderr=follower, text=True, env={**os.environ, **model_env},
    ) as on_terminal:
        os.close(follower)  # the child holds its own copy; reading ends with EIO when it exits
        shown = b""
        try:
            while chunk := os.read(leader, 4096):
                shown += chunk
        except OSError:
            pass
        finally:
            os.close(leader)
        stdout = on_terminal.stdout.read()
    assert on_terminal.wait(timeout=240) == 0
    assert b"8 model calls" in shown
    assert b"\r[0/8]   0%" in shown and b"\r[8/8] 100%" in shown
    assert json.loads(stdout)["n_pairs"] == 4  # the progress never mixes into the JSON on stdout


def test_a_resume_after_server_errors_runs_only_the_failed_calls(eval_file, db_path, model_env, server, capsys):
    server.enqueue(status(500), status(500), status(500))
    assert main(["compare", "--eval-set", str(eval_file), "--concurrency", "1", "--json", "--db", str(db_path)]) == 0
    first = capsys.readouterr()
    summary = json.loads(first.out)
    assert (summary["status"], summary["succeeded"], summary["failed"]) == ("partial", 5, 3)
    assert sum(summary["failed_by_backend"].values()) == 3
    assert f"--resume {summary['experiment_id']}" in first.err
    failed = sql(db_path, "SELECT error FROM experiment_runs WHERE status = 'failed'")
    assert len(failed) == 3 and all("500" in error for (error,) in failed)
    assert len(server.requests) == 8

    assert main(["compare", "--resume", summary["experiment_id"], "--json", "--db", str(db_path)]) == 0
    resumed = json.loads(capsys.readouterr().out)
    assert len(server.requests) == 8 + 3
    assert (resumed["status"], resumed["succeeded"], resumed["failed"], resumed["n_pairs"]) == ("completed", 8, 0, 4)
    assert sql(db_path, "SELECT count(*) FROM prompt_history WHERE experiment_id = ?", summary["experiment_id"]) == [(8,)]


def test_the_readable_summary_states_the_verdict_table_and_experiment_id(eval_file, db_path, model_env, capsys):
    assert main(["compare", "--eval-set", str(eval_file), "--db", str(db_path)]) == 0
    out = capsys.readouterr().out
    (experiment_id,) = sql(db_path, "SELECT id FROM experiments")[0]
    # Four ideas: too few pairs to decide, said as such with what to add (not "no detectable difference").
    assert "Verdict: too few pairs to decide (n = 4) on " in out and "add at least 6 more evaluation ideas" in out
    assert "quality" in out and "latency (ms)" in out and "[95% CI]" in out
    assert f"Experiment id: {experiment_id}" in out

    assert main(["compare", "--list", "--db", str(db_path)]) == 0
    assert experiment_id in capsys.readouterr().out
    assert main(["compare", "--show", experiment_id, "--json", "--db", str(db_path)]) == 0
    assert json.loads(capsys.readouterr().out)["experiment_id"] == experiment_id


def test_an_evaluation_idea_that_is_a_demonstration_is_refused_before_any_call(tmp_path, db_path, model_env, server, capsys):
    demo_idea = read_demonstration_records()[0]["original_idea"]
    path = tmp_path / "ideas.csv"
    path.write_text(f'idea,context\nPlan a volunteer schedule for a food bank,\n"  {demo_idea.upper()} ",\n',
                    encoding="utf-8")
    assert main(["compare", "--eval-set", str(path), "--db", str(db_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert demo_idea.upper() in err
    assert server.requests == []
    assert sql(db_path, "SELECT count(*) FROM experiments") == [(0,)]


def test_a_bad_evaluation_file_and_an_unknown_experiment_are_one_line_errors(tmp_path, db_path, model_env, capsys):
    path = tmp_path / "ideas.jsonl"
    path.write_text('{"idea": "Plan a volunteer schedule for a food bank"}\nnot json\n', encoding="utf-8")
    assert main(["compare", "--eval-set", str(path), "--db", str(db_path)]) == 1
    assert "line 2 is not valid JSON" in capsys.readouterr().err
    assert main(["compare", "--resume", "nosuchid", "--db", str(db_path)]) == 1
    assert "no experiment with id 'nosuchid'" in capsys.readouterr().err


def test_without_a_model_compare_explains_how_to_configure_one(eval_file, db_path, capsys):
    assert main(["compare", "--eval-set", str(eval_file), "--db", str(db_path)]) == 1
    err = capsys.readouterr().err
    assert "LLM_MODEL" in err and err.count("\n") == 1


def test_experiments_never_answer_from_the_response_cache_even_when_it_is_on(eval_file, db_path, model_env, server,
                                                                             monkeypatch, capsys):
    monkeypatch.setenv("LLM_CACHE", "true")
    for _ in range(2):
        assert main(["compare", "--eval-set", str(eval_file), "--json", "--db", str(db_path)]) == 0
    assert [json.loads(line)["succeeded"] for line in capsys.readouterr().out.splitlines()] == [8, 8]
    assert len(server.requests) == 16  # the second experiment asked the model again for every run


def test_the_summary_table_never_prints_a_small_non_zero_bound_as_zero():
    from prompt_improver.commands.compare_commands import _signed

    assert _signed(-0.3, 0) == "-0.3"
    assert _signed(0.04, 0) == "+0.04"
    assert _signed(-0.0001, 0) == "-0.00"  # beyond two extra places: the sign still shows the side
    assert _signed(0.0, 0) == "+0"
    assert _signed(12.6, 0) == "+13"
    assert _signed(None, 3) == "–"
