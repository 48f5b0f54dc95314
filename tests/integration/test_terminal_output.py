"""Escape sequences in a model's output or a stored idea never reach the terminal through human-readable output.

OSC 52 would write the user's clipboard, `ESC [2J` clear the screen, a carriage return hide text; JSON
output keeps the text exactly (escaped by the JSON encoder).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from prompt_improver.cli import main
from prompt_improver.settings import load_settings
from prompt_improver.wiring import open_repository
from tests.support.builders import make_record
from tests.support.fake_openai import FakeOpenAIServer, good_fields, reply

IDEA = "Write a changelog entry for our new export feature"
CLIPBOARD = "\x1b]52;c;cm0gLXJmIH4K\x07"  # OSC 52: put `rm -rf ~` on the clipboard
CLEAR = "\x1b[2J\x1b[H"
CONTROLS = ("\x1b", "\x07", "\x9b", "\x9d", "\r", "\x08", "\x00")


def _hostile_fields() -> dict:
    fields = dict(good_fields(IDEA))
    fields["improved_prompt"] = f"Line one{CLIPBOARD} stays\nLine two{CLEAR}\ttabbed\r\nLine three\x9b31m red\x08"
    fields["role"] = "editor\x1b]8;;http://evil.example\x1b\\click\x1b]8;;\x1b\\"
    fields["guardrails"] = [f"be brief{CLEAR}", "no\x00 secrets"]
    return fields


@pytest.fixture
def model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    with FakeOpenAIServer(default=reply(_hostile_fields())) as server:
        monkeypatch.setenv("SQLITE_DB_PATH", str(tmp_path / "history.db"))
        monkeypatch.setenv("DSPY_PROGRAM_DIR", str(tmp_path / "programs"))
        monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        monkeypatch.setenv("LLM_MODEL", "openai/fake-model")
        monkeypatch.setenv("LLM_API_BASE", server.base_url)
        monkeypatch.setenv("LLM_API_KEY", "test")
        monkeypatch.setenv("LLM_MAX_RETRIES", "0")
        yield server


def test_improve_prints_model_text_without_escape_sequences_but_keeps_lines_and_tabs(model, capsys):
    assert main(["improve", IDEA, "--backend", "zero-shot"]) == 0
    out = capsys.readouterr().out
    assert not [control for control in CONTROLS if control in out]
    assert "Line one stays\nLine two\ttabbed\nLine three31m red" in out
    assert "Role:       editorclick" in out
    assert "  - be brief" in out and "  - no secrets" in out


def test_improve_json_keeps_the_text_exactly_with_controls_escaped(model, capsys):
    assert main(["improve", IDEA, "--backend", "zero-shot", "--json"]) == 0
    out = capsys.readouterr().out
    assert not [control for control in CONTROLS if control in out]  # C1 (an 8-bit CSI, U+009B) escaped too
    assert "\\u001b]52;c;" in out and "\\u009b31m" in out
    improved = json.loads(out)["improved_prompt"]
    assert f"Line one{CLIPBOARD} stays\nLine two{CLEAR}" in improved and "Line three\x9b31m red\x08" in improved


def test_history_table_prints_stored_ideas_without_escape_sequences(db_path, capsys):
    repo = open_repository(load_settings(sqlite_db_path=db_path))
    repo.save(make_record(original_idea=f"plan a launch{CLIPBOARD}{CLEAR} party\rsecret", framework=f"RTF{CLEAR}"))
    assert main(["history", "--db", str(db_path)]) == 0
    out = capsys.readouterr().out
    assert not [control for control in CONTROLS if control in out]
    assert "plan a launch partysecret" in out and " RTF " in out


def test_an_error_message_naming_a_hostile_path_prints_no_escape_sequence(tmp_path, capsys):
    directory = tmp_path / f"data{CLEAR}"
    directory.mkdir()
    assert main(["history", "--db", str(directory)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "is a directory" in err and err.count("\n") == 1
    assert "\x1b" not in err


def test_history_json_keeps_stored_text_exactly_but_prints_no_raw_control_character(db_path, capsys):
    idea = f"plan a launch{CLIPBOARD}\x9b2J party\x7f"
    open_repository(load_settings(sqlite_db_path=db_path)).save(make_record(original_idea=idea))
    assert main(["history", "--json", "--db", str(db_path)]) == 0
    out = capsys.readouterr().out
    assert not [control for control in CONTROLS + ("\x7f",) if control in out]
    assert json.loads(out)[0]["original_idea"] == idea
