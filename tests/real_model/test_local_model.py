"""End to end against a real model (SmolLM2-135M on llama.cpp's server): the plumbing, not the prose.

The model is tiny and often writes nonsense; what must hold is that every run ends in a saved, complete
record or in one clear line naming the cause, never a traceback or the client library's internals.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from prompt_improver.cli import main

# The first test also waits for the server to start (unpacking it and the model on a fresh machine).
pytestmark = [pytest.mark.real_model, pytest.mark.slow, pytest.mark.timeout(600)]

IDEA = "Write a short welcome email for new users of our notes app"
INTERNALS = ("lm15", "Timeouts(", "Traceback", "RouterConfig")
# Each of our model errors names what to change; an unusable answer says so.
CAUSES = ("LLM_MAX_TOKENS", "LLM_TIMEOUT_S", "LLM_TOTAL_TIMEOUT_S", "could not be used", "LLM_API_BASE", "LLM_MODEL")


def _stored(db: Path) -> list[tuple]:
    with closing(sqlite3.connect(db)) as conn:
        return conn.execute("SELECT uid, backend, improved_prompt, role, directive, framework, guardrails "
                            "FROM prompt_history").fetchall()


def _assert_clean_failure(err: str) -> None:
    lines = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, err
    assert not any(word in err for word in INTERNALS), err
    assert any(cause in lines[0] for cause in CAUSES), lines[0]


@pytest.mark.parametrize("backend", ["zero-shot", "few-shot"])
def test_improve_json_saves_a_complete_record_or_fails_in_one_clear_line(real_model_env, capsys, backend):
    code = main(["improve", IDEA, "--backend", backend, "--json"])
    out, err = capsys.readouterr()
    if code != 0:
        _assert_clean_failure(err)
        return
    record = json.loads(out)
    assert record["saved"] is True and record["backend"] == backend
    for field in ("improved_prompt", "role", "directive", "framework"):
        assert record[field].strip(), field
    assert record["confidence"] is None or 0 <= record["confidence"] <= 1
    rows = _stored(real_model_env)
    assert [(row[0], row[1]) for row in rows] == [(record["uid"], backend)]


def test_an_answer_cut_at_a_small_token_limit_names_the_setting(real_model_env, capsys, monkeypatch):
    monkeypatch.setenv("LLM_MAX_TOKENS", "64")
    code = main(["improve", IDEA, "--backend", "zero-shot", "--json"])
    out, err = capsys.readouterr()
    if code == 0:  # the model kept every field short enough: then the record must be complete
        assert json.loads(out)["saved"] is True
        return
    _assert_clean_failure(err)
    assert "LLM_MAX_TOKENS=64" in err or "could not be used" in err


def test_a_small_compare_runs_both_backends_through_the_service(real_model_env, capsys, tmp_path):
    ideas = tmp_path / "ideas.jsonl"
    ideas.write_text(json.dumps({"idea": IDEA, "context": ""}) + "\n", encoding="utf-8")
    code = main(["compare", "--eval-set", str(ideas), "--json"])
    out, err = capsys.readouterr()
    assert not any(word in out + err for word in INTERNALS), err
    assert code in (0, 1), err
    summary = json.loads(out) if code == 0 else None
    rows = _stored(real_model_env)
    # every run that succeeded is a complete, tagged record; failures are counted, not lost
    assert all(row[2].strip() and row[3].strip() for row in rows)
    if summary is not None:
        assert summary  # the summary printed as JSON
    assert {row[1] for row in rows} <= {"zero-shot", "few-shot"}


def test_doctor_finds_the_local_model_usable(real_model_env, capsys, tmp_path):
    code = main(["doctor", "--db", str(tmp_path / "doctor.db")])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "reachable" in out and "status: ok" in out
