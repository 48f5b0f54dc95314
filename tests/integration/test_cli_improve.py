"""`prompt-improver improve` and `compile-fewshot` against the fake OpenAI-compatible server.

Configuration comes from the environment, as a user's would; the CLI runs in-process through `main`.
"""

from __future__ import annotations

import json
import os
import sqlite3
from contextlib import closing
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.outbox import Outbox
from prompt_improver.cli import main
from store.record import PromptHistory
from tests.support.builders import make_record
from tests.support.fake_openai import FakeOpenAIServer, good_fields, reply, status

IDEA = "Write a changelog entry for our new export feature"
RECORD_KEYS = set(PromptHistory.__dataclass_fields__)
REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def server():
    with FakeOpenAIServer(default=reply(good_fields(IDEA))) as fake:
        yield fake


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "data" / "history.db"
    monkeypatch.setenv("SQLITE_DB_PATH", str(path))
    monkeypatch.setenv("DSPY_PROGRAM_DIR", str(tmp_path / "programs"))
    # The CLI defaults this (no metadata download); setting it here lets monkeypatch undo it afterwards.
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    return path


@pytest.fixture
def model_env(server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLM_MODEL", "openai/fake-model")
    monkeypatch.setenv("LLM_API_BASE", server.base_url)
    monkeypatch.setenv("LLM_API_KEY", "test")
    monkeypatch.setenv("LLM_MAX_RETRIES", "0")
    monkeypatch.setenv("LLM_TIMEOUT_S", "10")


def _rows(db: Path) -> list[tuple]:
    with closing(sqlite3.connect(db)) as conn, conn:
        return conn.execute("SELECT id, uid, backend, improved_prompt FROM prompt_history ORDER BY id").fetchall()


def test_improve_json_prints_the_record_fields_and_saves_it(server, db, model_env, capsys):
    status_code = main(["improve", IDEA, "--context", "Users are data engineers", "--backend", "zero-shot", "--json"])
    out, err = capsys.readouterr()

    assert status_code == 0
    result = json.loads(out)
    assert set(result) == RECORD_KEYS | {"saved", "persistence_error"}
    assert result["saved"] is True and result["persistence_error"] is None
    assert result["improved_prompt"] == good_fields(IDEA)["improved_prompt"]
    assert result["backend"] == "zero-shot"
    assert result["model_version"] == "openai/fake-model"
    assert result["latency_ms"] > 0 and 0 <= result["quality"] <= 1
    assert _rows(db) == [(result["id"], result["uid"], "zero-shot", result["improved_prompt"])]
    assert "Users are data engineers" in json.dumps(server.requests[0]["messages"])
    assert err == ""


def test_improve_prints_a_readable_result_by_default(server, db, model_env, capsys):
    assert main(["improve", IDEA, "--backend", "zero-shot"]) == 0
    out, _ = capsys.readouterr()
    fields = good_fields(IDEA)
    assert fields["improved_prompt"] in out
    assert f"Role:       {fields['role']}" in out
    assert "  - " + fields["guardrails"][0] in out
    assert "Saved as #1" in out


def test_the_default_backend_follows_dspy_fewshot_enabled(server, db, model_env, monkeypatch, capsys):
    monkeypatch.setenv("DSPY_FEWSHOT_ENABLED", "false")
    assert main(["improve", IDEA, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["backend"] == "zero-shot"


def test_a_database_path_that_is_a_directory_still_prints_the_improvement_and_keeps_it(
    server, tmp_path, model_env, capsys
):
    directory = tmp_path / "not-a-file.db"
    directory.mkdir()

    status_code = main(["improve", IDEA, "--backend", "zero-shot", "--json", "--db", str(directory)])
    out, err = capsys.readouterr()

    assert status_code == 0
    result = json.loads(out)
    assert result["saved"] is False
    assert result["improved_prompt"] == good_fields(IDEA)["improved_prompt"]
    assert "outbox" in result["persistence_error"]
    assert "outbox" in err and "not saved" in err
    kept = Outbox(tmp_path / "not-a-file.db.outbox.jsonl").pending()
    assert [record.uid for record in kept] == [result["uid"]]


def test_records_waiting_in_the_outbox_are_stored_at_start(server, db, model_env, capsys):
    waiting = make_record()
    db.parent.mkdir(parents=True)
    Outbox(db.with_name(db.name + ".outbox.jsonl")).append(waiting, "database was locked")

    assert main(["improve", IDEA, "--backend", "zero-shot", "--json"]) == 0
    out, err = capsys.readouterr()

    # At start, before this improvement is saved: the waiting record gets the first id.
    assert [uid for _, uid, _, _ in _rows(db)] == [waiting.uid, json.loads(out)["uid"]]
    assert "1 earlier record(s) from the outbox" in err
    assert Outbox(db.with_name(db.name + ".outbox.jsonl")).pending() == []


def test_a_database_with_a_newer_schema_is_left_alone_and_the_improvement_kept_then_stored_once(
    server, db, model_env, capsys
):
    from store.sqlite.migrations import migrate

    migrate(db)
    with closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("PRAGMA user_version = 999")

    assert main(["improve", IDEA, "--backend", "zero-shot", "--json"]) == 0
    out, err = capsys.readouterr()
    kept = json.loads(out)

    assert kept["saved"] is False and kept["id"] is None
    assert kept["improved_prompt"] == good_fields(IDEA)["improved_prompt"]
    assert "newer" in kept["persistence_error"] and "outbox" in kept["persistence_error"]
    assert "kept in the outbox" in err
    assert _rows(db) == []
    with closing(sqlite3.connect(db)) as conn, conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (999,)  # refused, not "repaired"

    with closing(sqlite3.connect(db)) as conn, conn:  # the user upgrades prompt-improver; here: the version it knows
        from store.sqlite.schema import SCHEMA_VERSION

        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    assert main(["improve", IDEA, "--backend", "zero-shot", "--json"]) == 0
    later = json.loads(capsys.readouterr().out)
    assert later["saved"] is True
    assert [uid for _, uid, _, _ in _rows(db)] == [kept["uid"], later["uid"]]
    assert Outbox(db.with_name(db.name + ".outbox.jsonl")).pending() == []


def test_without_a_model_it_exits_1_with_one_line_explaining_how_to_configure(db, capsys):
    status_code = main(["improve", IDEA])
    out, err = capsys.readouterr()

    assert status_code == 1
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("error: ") and "LLM_MODEL" in err and "LLM_API_BASE" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("idea", "message"),
    [
        ("hi", "idea needs at least 5 non-blank characters"),
        # A Latin-1 terminal's "café", as Python's argv decodes it (surrogateescape): DSPy would raise a
        # bare ValueError (a traceback) before sending it.
        (b"Write a caf\xe9 menu".decode("utf-8", "surrogateescape"), "idea contains text that is not valid Unicode"),
    ],
    ids=["too short", "not valid unicode"],
)
def test_an_invalid_idea_exits_1_before_any_request_reaches_the_server(idea, message, server, db, model_env, capsys):
    status_code = main(["improve", idea, "--json"])
    _, err = capsys.readouterr()

    assert status_code == 1
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert server.requests == []
    assert not db.exists()


def test_a_model_failure_exits_1_with_the_providers_message(server, db, model_env, capsys):
    server.default = status(500, "model overloaded, try later")
    status_code = main(["improve", IDEA, "--backend", "zero-shot"])
    _, err = capsys.readouterr()

    assert status_code == 1
    assert "model overloaded, try later" in err
    assert len(err.strip().splitlines()) == 1


def test_compile_fewshot_saves_a_program_that_improve_then_uses(server, db, model_env, tmp_path, capsys):
    assert main(["compile-fewshot", "--k", "2"]) == 0
    out, _ = capsys.readouterr()
    saved = tmp_path / "programs" / "few-shot.json"
    assert saved.exists()
    version = out.split("program version ")[1].rstrip(")\n")
    assert str(saved) in out

    assert main(["improve", IDEA, "--backend", "few-shot", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["program_version"] == version


@pytest.mark.parametrize("target", ["history.db", "history.db-wal", "history.db.outbox.jsonl", "link.db"])
def test_compile_fewshot_never_saves_over_the_history_or_the_outbox(server, db, model_env, capsys, target):
    assert main(["improve", IDEA, "--backend", "zero-shot"]) == 0  # a real history with one record
    outbox = db.with_name(db.name + ".outbox.jsonl")
    outbox.write_text('{"uid": "waiting"}\n', encoding="utf-8")
    (db.parent / "link.db").symlink_to(db)
    (db.parent / "history.db-wal").touch()
    before = {path: path.read_bytes() for path in (db, outbox)}
    calls = len(server.requests)
    capsys.readouterr()

    out = db.parent / target
    assert main(["compile-fewshot", "--k", "2", "--output", str(out), "--force"]) == 1
    _, err = capsys.readouterr()
    assert err.strip() == (
        f"error: --output {out} is the history database {db} (or one of its files, or the outbox {outbox}); "
        "writing the program there would destroy the history: name another file"
    )
    assert {path: path.read_bytes() for path in before} == before
    assert len(server.requests) == calls  # refused before the model was called


def test_compile_fewshot_overwrites_a_program_but_not_another_file_unless_forced(server, db, model_env, tmp_path, capsys):
    notes = tmp_path / "notes.json"
    notes.write_text('{"my": "notes"}', encoding="utf-8")
    assert main(["compile-fewshot", "--k", "2", "--output", str(notes)]) == 1
    assert capsys.readouterr().err.strip() == (
        f"error: --output {notes} exists and is not a saved program; saving would replace it: name another file, "
        "or pass --force to overwrite it"
    )
    assert notes.read_text(encoding="utf-8") == '{"my": "notes"}' and server.requests == []

    program = tmp_path / "program.json"
    assert main(["compile-fewshot", "--k", "2", "--output", str(program)]) == 0
    assert main(["compile-fewshot", "--k", "2", "--output", str(program)]) == 0  # a program replaces a program
    assert main(["compile-fewshot", "--k", "2", "--output", str(notes), "--force"]) == 0
    assert json.loads(notes.read_text(encoding="utf-8"))["metadata"]["program_version"]


@pytest.mark.parametrize("argv", [["--help"], ["improve", "--help"], ["history"]])
def test_help_and_history_do_not_import_dspy_or_litellm(argv, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LLM_", "SQLITE_", "DSPY_"))}
    env["PYTHONPATH"] = str(REPO_ROOT)
    env["SQLITE_DB_PATH"] = str(tmp_path / "history.db")
    completed = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "prompt_improver.cli", *argv],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120,
    )
    assert "Traceback" not in completed.stderr, completed.stderr[-2000:]
    assert completed.returncode in (0, 1)
    imported = {line.split("|")[-1].strip().split(".")[0] for line in completed.stderr.splitlines() if "|" in line}
    assert "prompt_improver" in imported  # the measurement itself worked
    assert "dspy" not in imported
    assert "litellm" not in imported


def test_with_history_turned_off_nothing_is_written(server, db, model_env, monkeypatch, capsys):
    monkeypatch.setenv("SQLITE_ENABLED", "false")
    assert main(["improve", IDEA, "--backend", "zero-shot", "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["saved"] is False
    assert "SQLITE_ENABLED=false" in err
    assert not db.parent.exists()


def test_a_slow_model_is_one_clear_line_and_verbose_shows_each_attempt(db, monkeypatch, capsys):
    from tests.support.fake_openai import hang

    with FakeOpenAIServer(default=hang(5)) as slow:
        monkeypatch.setenv("LLM_MODEL", "openai/fake-model")
        monkeypatch.setenv("LLM_API_BASE", slow.base_url)
        monkeypatch.setenv("LLM_TIMEOUT_S", "0.3")
        monkeypatch.setenv("LLM_MAX_RETRIES", "1")
        quiet = main(["improve", IDEA, "--backend", "zero-shot"])
        _, quiet_err = capsys.readouterr()
        verbose = main(["-v", "improve", IDEA, "--backend", "zero-shot"])
        _, verbose_err = capsys.readouterr()
    assert quiet == verbose == 1
    assert quiet_err.count("\n") == 1 and quiet_err.startswith("error: ")
    assert "LLM_TIMEOUT_S=0.3 s" in quiet_err and "after 2 attempts" in quiet_err
    assert "lm15" not in quiet_err + verbose_err.splitlines()[-1] and "Timeouts(" not in quiet_err
    assert "attempt 1 of 2" in verbose_err and "attempt 2 of 2" in verbose_err


@pytest.mark.parametrize("command", [["improve", IDEA], ["doctor"]])
def test_an_unparseable_api_base_is_one_settings_line_with_the_password_masked(db, monkeypatch, capsys, command):
    monkeypatch.setenv("LLM_MODEL", "openai/fake-model")
    monkeypatch.setenv("LLM_API_BASE", "http://alice:hunter2@[::1")
    code = main(command)
    _, err = capsys.readouterr()
    assert code == 1 and err.count("\n") == 1
    assert err.startswith("error: invalid setting(s): LLM_API_BASE:") and "not a valid URL" in err
    assert "hunter2" not in err and "Traceback" not in err
