"""Database and output paths that cannot name a file: one line on stderr and a non-zero exit, never a traceback.

Run as a user runs them (the console script in a subprocess), with file names as raw bytes where they are
not UTF-8, as a shell passes them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.analytics_db import create_history, record_at

SCRIPT = Path(sys.executable).with_name("prompt-improver")
NOT_UTF8 = b"hist\xffory.db"
# Every command that opens the database, with what it needs besides the path.
COMMANDS = {
    "doctor": [], "history": [], "prune --dry-run": [], "prune": ["--older-than-days", "9"],
    "demo-data": ["--rows", "2"], "stats": [], "export": ["-o", "out.csv"], "compare --list": [],
    "improve": ["write a haiku about the sea"],
}


def _run(argv: list, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    command = [os.fsencode(str(SCRIPT))] + [part if isinstance(part, bytes) else os.fsencode(part) for part in argv]
    return subprocess.run(command, capture_output=True, timeout=180, env=env, cwd=cwd)


def _one_line_error(result: subprocess.CompletedProcess) -> str:
    err = result.stderr.decode("utf-8", "backslashreplace")
    assert result.returncode != 0, (result.stdout, err)
    assert "Traceback" not in err and err.count("\n") == 1 and err.startswith("error: "), err
    return err.strip()


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize(
    ("db", "expected"),
    [
        ("", "is a directory, not a database file"),
        ("/", "'/' is a directory, not a database file"),
        (NOT_UTF8, "the path 'hist\\xffory.db' is not valid UTF-8"),
    ],
    ids=["empty", "root", "not-utf8"],
)
def test_a_db_option_that_names_no_usable_file_is_one_line(tmp_path, command, db, expected):
    argv = command.split() + COMMANDS[command] + ["--db", db]
    line = _one_line_error(_run(argv, cwd=tmp_path))
    assert expected in line and "--db" in line
    assert not (tmp_path / os.fsdecode(NOT_UTF8)).exists()  # refused before anything was created


@pytest.mark.parametrize("command", list(COMMANDS) + ["compile-fewshot"])
def test_an_empty_sqlite_db_path_setting_is_one_line_naming_it(tmp_path, command):
    env = {**os.environ, "SQLITE_DB_PATH": ""}
    argv = command.split() + COMMANDS.get(command, [])
    line = _one_line_error(_run(argv, env=env, cwd=tmp_path))
    assert "SQLITE_DB_PATH" in line and "the database path is empty" in line


def test_export_to_a_file_name_that_is_not_utf8_is_one_line(tmp_path):
    db = create_history(tmp_path / "history.db", [record_at("2026-01-10 10:00:00")])
    line = _one_line_error(_run(["export", "--db", str(db), "-o", os.fsencode(str(tmp_path)) + b"/out\xfe.csv"]))
    assert "-o '" in line and "out\\xfe.csv' is not a valid UTF-8 file name" in line
