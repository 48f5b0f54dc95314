"""`prompt-improver doctor | history | prune | demo-data`, end to end on real SQLite files.

Most tests call `prompt_improver.cli.main` in-process (capsys captures what a user sees); a few run the
installed `prompt-improver` console script as a real subprocess. Stored rows are checked with raw SQL.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import json
import os
import pty
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from prompt_improver.settings import load_settings
from prompt_improver.wiring import open_repository
from store.record import BackendType, PromptHistory
from store.timestamps import utc_now
from tests.support.builders import make_record


@pytest.fixture
def repo(db_path):
    return open_repository(load_settings(sqlite_db_path=db_path))


def _rows(path: Path, sql: str = "SELECT count(*) FROM prompt_history") -> list[tuple]:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(sql).fetchall()


def _console_script() -> str:
    script = Path(sys.executable).with_name("prompt-improver")
    return str(script) if script.exists() else shutil.which("prompt-improver") or "prompt-improver"


def _assert_one_line_error(code: int, err: str, *fragments: str) -> None:
    assert code == 1
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    for fragment in fragments:
        assert fragment in err


# -- history ------------------------------------------------------------------------------------------


def test_history_json_gives_the_saved_records_with_field_names_newest_first(run, repo, db_path):
    older = repo.save(make_record(original_idea="first idea, with 'quotes'", guardrails=("a\nb", "ünïcode")))
    newer = repo.save(
        make_record(
            original_idea="second idea",
            backend=BackendType.ZERO_SHOT,
            confidence=None,
            timestamp=older.timestamp + timedelta(hours=1),
        )
    )
    code, out, err = run("history", "--json", "--db", db_path)
    assert (code, err) == (0, "")
    assert json.loads(out) == [newer.to_dict(), older.to_dict()]
    first = json.loads(out)[0]
    assert sorted(first) == sorted(field.name for field in dataclasses.fields(PromptHistory))  # every field, no other
    assert first["timestamp"] == "2026-01-03T11:15:42.123456+00:00"
    assert json.loads(out)[1]["guardrails"] == ["a\nb", "ünïcode"]


def test_history_filters_by_backend_and_limit(run, repo, db_path):
    base = datetime(2026, 1, 3, tzinfo=timezone.utc)
    for hour, backend in enumerate(["few-shot", "zero-shot", "few-shot", "few-shot"]):
        repo.save(make_record(backend=backend, timestamp=base + timedelta(hours=hour)))
    code, out, _ = run("history", "--json", "--backend", "few-shot", "--limit", "2", "--db", db_path)
    records = json.loads(out)
    assert code == 0
    assert [record["backend"] for record in records] == ["few-shot", "few-shot"]
    assert [record["timestamp"][11:13] for record in records] == ["03", "02"]


def test_history_until_a_bare_date_includes_that_whole_day(run, repo, db_path):
    last_moment = datetime(2026, 1, 3, 23, 59, 59, 999_999, tzinfo=timezone.utc)
    repo.save(make_record(original_idea="late on the third", timestamp=last_moment))
    repo.save(make_record(original_idea="start of the fourth", timestamp=last_moment + timedelta(microseconds=1)))
    second = datetime(2026, 1, 2, 0, 0, tzinfo=timezone.utc)
    repo.save(make_record(original_idea="early on the second", timestamp=second))

    def ideas(*options: str) -> list[str]:
        code, out, _ = run("history", "--json", "--db", db_path, *options)
        assert code == 0
        return [record["original_idea"] for record in json.loads(out)]

    assert ideas("--until", "2026-01-03") == ["late on the third", "early on the second"]
    assert ideas("--since", "2026-01-03", "--until", "2026-01-03") == ["late on the third"]
    assert ideas("--since", "2026-01-04") == ["start of the fourth"]
    assert ideas("--since", "2026-01-03T23:59:59.999999Z") == ["start of the fourth", "late on the third"]
    assert ideas("--until", "2026-01-02T00:00:00+00:00") == ["early on the second"]
    assert ideas("--until", "2026-01-02 00:00") == ["early on the second"]
    assert ideas("--since", "2026-01-03T20:59:59-03:00") == ["start of the fourth", "late on the third"]
    assert len(ideas("--since", "0001-01-01", "--until", "9999-12-31")) == 3


def test_history_prints_a_readable_table(run, repo, db_path):
    repo.save(make_record(original_idea="Summarise the quarterly report"))
    code, out, _ = run("history", "--db", db_path)
    assert code == 0
    assert "Summarise the quarterly report" in out
    assert "few-shot" in out and "0.82" in out and "1.2 s" in out
    assert "1 record(s), newest first" in out


def test_history_on_an_empty_database_says_so(run, db_path):
    code, out, _ = run("history", "--db", db_path)
    assert (code, out.strip()) == (0, "no records")


@pytest.mark.parametrize(
    "option, value", [("--since", "2026-13-01"), ("--until", "yesterday"), ("--since", "03/01/2026")]
)
def test_history_bad_date_is_one_line_naming_the_value_and_the_format(run, db_path, option, value):
    code, out, err = run("history", option, value, "--db", db_path)
    _assert_one_line_error(code, err, option, repr(value), "YYYY-MM-DD")
    assert out == ""


def test_history_refuses_a_range_that_ends_before_it_starts(run, db_path):
    code, _, err = run("history", "--since", "2026-02-01", "--until", "2026-01-01", "--db", db_path)
    _assert_one_line_error(code, err, "--since 2026-02-01 is not before --until 2026-01-01")


def test_history_refuses_an_unknown_backend(run, db_path):
    code, _, err = run("history", "--backend", "three-shot", "--db", db_path)
    _assert_one_line_error(code, err, "'three-shot'", "zero-shot")


def test_history_reads_the_database_named_by_sqlite_db_path(run, monkeypatch, tmp_path):
    path = tmp_path / "from-env" / "history.db"
    monkeypatch.setenv("SQLITE_DB_PATH", str(path))
    open_repository(load_settings()).save(make_record(original_idea="stored via the environment"))
    code, out, _ = run("history", "--json")
    assert code == 0
    assert [record["original_idea"] for record in json.loads(out)] == ["stored via the environment"]


def test_a_database_path_that_is_a_directory_is_one_line_naming_it(run, tmp_path):
    (tmp_path / "somedir").mkdir()
    code, _, err = run("history", "--db", tmp_path / "somedir")
    _assert_one_line_error(code, err, "somedir is a directory")


def test_an_invalid_setting_stops_the_command_naming_it(run, monkeypatch, db_path):
    monkeypatch.setenv("SQLITE_RETENTION_DAYS", "0")
    code, _, err = run("history", "--db", db_path)
    _assert_one_line_error(code, err, "SQLITE_RETENTION_DAYS")


# -- prune --------------------------------------------------------------------------------------------


def _old_and_new(repo) -> None:
    now = utc_now()
    for days in (40, 35, 1):
        repo.save(make_record(timestamp=now - timedelta(days=days)))


def test_prune_dry_run_counts_without_deleting(run, repo, db_path):
    _old_and_new(repo)
    backup = db_path.with_name("unused-backup.db")
    code, out, _ = run("prune", "--older-than-days", "30", "--dry-run", "--backup", backup, "--db", db_path)
    assert code == 0
    assert out.startswith("would delete 2 records older than ")
    assert "nothing was changed" in out
    assert not backup.exists()
    cutoff = (utc_now() - timedelta(days=29)).date().isoformat()  # 30 calendar days, today included
    assert f"older than {cutoff}T00:00:00+00:00 (30 days)" in out
    assert _rows(db_path) == [(3,)]


def test_prune_deletes_old_records_and_keeps_the_window(run, repo, db_path):
    _old_and_new(repo)
    code, out, _ = run("prune", "--older-than-days", "30", "--db", db_path)
    assert code == 0
    assert out.startswith("deleted 2 records older than ")
    remaining = _rows(db_path, "SELECT timestamp FROM prompt_history")
    assert len(remaining) == 1
    assert remaining[0][0] > (utc_now() - timedelta(days=2)).isoformat()


def test_prune_without_days_uses_the_retention_stored_from_the_settings_page(run, repo, db_path):
    _old_and_new(repo)  # records 40, 35 and 1 days old
    repo.set_setting("retention_days", "38")  # what the dashboard's Settings page stores
    code, out, _ = run("prune", "--dry-run", "--db", db_path)
    assert code == 0
    assert out.startswith("would delete 1 records older than ") and "(38 days)" in out


def test_prune_without_days_or_a_stored_value_uses_sqlite_retention_days(run, repo, db_path, monkeypatch):
    _old_and_new(repo)
    monkeypatch.setenv("SQLITE_RETENTION_DAYS", "36")
    code, out, _ = run("prune", "--db", db_path)
    assert code == 0
    assert out.startswith("deleted 1 records older than ") and "(36 days)" in out
    assert _rows(db_path) == [(2,)]


def test_prune_backup_holds_the_rows_from_before_the_prune(run, repo, db_path, tmp_path):
    _old_and_new(repo)
    before = _rows(db_path, "SELECT * FROM prompt_history ORDER BY id")
    backup = tmp_path / "backups" / "before-prune.db"
    code, out, _ = run("prune", "--older-than-days", "30", "--backup", backup, "--vacuum", "--db", db_path)
    assert code == 0
    assert f"backup of the database before pruning: {backup}" in out
    assert "vacuumed" in out
    assert _rows(backup, "SELECT * FROM prompt_history ORDER BY id") == before
    assert _rows(db_path) == [(1,)]


def test_prune_never_overwrites_an_existing_backup(run, repo, db_path, tmp_path):
    _old_and_new(repo)
    backup = tmp_path / "taken.db"
    backup.write_text("an earlier backup")
    code, _, err = run("prune", "--older-than-days", "30", "--backup", backup, "--db", db_path)
    _assert_one_line_error(code, err, "already exists")
    assert backup.read_text() == "an earlier backup"
    assert _rows(db_path) == [(3,)]


def test_history_refuses_a_limit_sqlite_cannot_hold_in_one_line(run, repo, db_path):
    code, _, err = run("history", "--limit", str(2**63), "--db", db_path)
    _assert_one_line_error(code, err, f"--limit must be from 1 to {2**63 - 1:,}, got {2**63:,}")
    repo.save(make_record())
    code, out, _ = run("history", "--json", "--limit", str(2**63 - 1), "--db", db_path)
    assert code == 0 and len(json.loads(out)) == 1


@pytest.mark.parametrize("days", ["99999999", str(10**20)])
def test_prune_further_back_than_year_one_deletes_nothing_and_says_so(run, repo, db_path, days):
    _old_and_new(repo)
    code, out, err = run("prune", "--older-than-days", days, "--dry-run", "--db", db_path)
    assert (code, err) == (0, "")
    assert out.startswith(f"would delete 0 records older than 0001-01-01T00:00:00+00:00 ({days} days)")
    code, out, err = run("prune", "--older-than-days", days, "--db", db_path)
    assert (code, err) == (0, "") and out.startswith("deleted 0 records")
    assert _rows(db_path) == [(3,)]


def test_prune_refuses_zero_days(run, db_path):
    code, _, err = run("prune", "--older-than-days", "0", "--db", db_path)
    _assert_one_line_error(code, err, "--older-than-days must be at least 1, got 0")


# -- demo-data ------------------------------------------------------------------------------------------


def test_demo_data_writes_the_requested_rows(run, db_path):
    code, out, err = run("demo-data", "--rows", "1500", "--days", "10", "--seed", "3", "--db", db_path)
    assert code == 0
    assert out.startswith(f"wrote 1,500 demo records (10 days, seed 3) to {db_path} in ")
    assert err == ""  # no progress bar: stderr is not a terminal here
    assert _rows(db_path, "SELECT count(*), min(model_version), max(model_version) FROM prompt_history") == [
        (1500, "demo", "demo")
    ]
    assert _rows(db_path, "SELECT count(DISTINCT backend) FROM prompt_history") == [(2,)]
    oldest = _rows(db_path, "SELECT min(timestamp) FROM prompt_history")[0][0]
    assert oldest >= (utc_now() - timedelta(days=10, minutes=1)).isoformat()


def test_demo_data_can_be_added_twice(run, db_path):
    assert run("demo-data", "--rows", "100", "--db", db_path)[0] == 0
    assert run("demo-data", "--rows", "100", "--db", db_path)[0] == 0
    assert _rows(db_path) == [(200,)]


def test_demo_data_refuses_to_mix_into_a_real_history(run, repo, db_path):
    repo.save(make_record())
    code, out, err = run("demo-data", "--rows", "10", "--db", db_path)
    _assert_one_line_error(code, err, "1 records that are not demo data", "--force", "--db")
    assert _rows(db_path) == [(1,)]
    code, out, _ = run("demo-data", "--rows", "10", "--force", "--db", db_path)
    assert code == 0
    assert _rows(db_path) == [(11,)]


@pytest.mark.parametrize(
    "option, value, message",
    [
        ("--rows", "0", "--rows must be from 1 to 100,000,000, got 0"),
        ("--rows", str(10**23), f"--rows must be from 1 to 100,000,000, got {10**23:,}"),
        ("--days", "100000", "--days must be from 1 to 36,500, got 100000"),
    ],
)
def test_demo_data_refuses_bad_sizes_by_option(run, db_path, option, value, message):
    argv = {"--rows": "10", "--days": "30"}
    argv[option] = value
    code, _, err = run("demo-data", "--rows", argv["--rows"], "--days", argv["--days"], "--db", db_path)
    _assert_one_line_error(code, err, message)


# -- doctor ---------------------------------------------------------------------------------------------


def test_doctor_reports_a_healthy_database_and_exits_0(run, repo, db_path):
    repo.save(make_record())
    code, out, err = run("doctor", "--db", db_path)
    assert code == 0, err
    assert str(db_path) in out
    assert "rows            1" in out
    assert "journal mode    wal" in out
    assert "quick_check     ok" in out
    assert "model: not configured" in out
    assert "status: ok" in out
    assert err == ""


def test_doctor_names_a_file_that_is_not_a_database_and_its_fix(run, tmp_path):
    bogus = tmp_path / "notes.db"
    bogus.write_text("these are my notes, not a database\n" * 100)
    code, out, err = run("doctor", "--db", bogus)
    assert code == 1
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert lines[0].startswith("problem: database") and "not an SQLite database" in lines[0]
    assert lines[1].strip().startswith("fix: ")
    assert "status: 1 problem(s)" in out
    assert bogus.read_text().startswith("these are my notes")  # doctor does not touch the file


def test_doctor_gives_a_locked_database_the_fix_for_a_lock_not_for_a_wrong_file(run, db_path, monkeypatch):
    assert run("demo-data", "--rows", "10", "--db", db_path)[0] == 0
    monkeypatch.setenv("SQLITE_BUSY_TIMEOUT_MS", "200")
    holder = sqlite3.connect(db_path, isolation_level=None)
    try:
        holder.execute("PRAGMA journal_mode = delete")  # only a rollback journal locks readers out
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("INSERT INTO app_settings VALUES ('lock', 'held')")
        code, out, err = run("doctor", "--db", db_path)
    finally:
        holder.close()
    assert code == 1 and "status: 1 problem(s)" in out
    problem, fix = err.strip().splitlines()[:2]
    assert problem.startswith(f"problem: database {str(db_path)!r} cannot be opened: {db_path} stayed locked")
    assert fix == "  fix: retry, or raise SQLITE_BUSY_TIMEOUT_MS"


def test_doctor_exits_1_when_duckdbs_sqlite_extension_cannot_load(run, repo, db_path, tmp_path, monkeypatch):
    # A missing wheel file and an empty extension repository, with DuckDB's home (and its extension
    # directory) in this test's own directory: the extension genuinely cannot be loaded.
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("PROMPT_IMPROVER_SQLITE_EXTENSION", str(tmp_path / "missing.duckdb_extension"))
    (tmp_path / "empty-repository").mkdir()
    monkeypatch.setenv("PROMPT_IMPROVER_DUCKDB_EXTENSION_REPOSITORY", str(tmp_path / "empty-repository"))
    code, out, err = run("doctor", "--db", db_path)
    assert code == 1
    assert "duckdb sqlite extension: does not load" in out
    lines = err.strip().splitlines()
    assert lines[0].startswith("problem: DuckDB's sqlite extension does not load")
    version = importlib.metadata.version("duckdb")  # the installed one, whatever the pin says
    assert lines[1] == f"  fix: pip install duckdb-extension-sqlite-scanner=={version} (the version must equal duckdb's)"
    assert "quick_check     ok" in out  # the database itself is fine


def test_doctors_fallback_fix_names_the_installed_duckdb_version_without_importing_duckdb():
    from prompt_improver.commands.doctor import _reinstall_hint

    version = importlib.metadata.version("duckdb")
    assert _reinstall_hint() == (
        f"reinstall the pinned pair: pip install 'duckdb=={version}' 'duckdb-extension-sqlite-scanner=={version}'"
    )


def test_doctor_exits_1_for_a_damaged_database_and_names_the_recovery(run, db_path):
    assert run("demo-data", "--rows", "3000", "--db", db_path)[0] == 0
    with db_path.open("r+b") as file:  # overwrite ten pages of the table's b-tree
        for page in range(20, 30):
            file.seek(page * 4096 + 100)
            file.write(b"\xa5" * 3000)
    code, out, err = run("doctor", "--db", db_path)
    assert code == 1
    assert "Traceback" not in err
    problem, fix = err.strip().splitlines()
    assert problem.startswith("problem: database") and "damaged" in problem
    assert ".recover" in fix


def test_doctor_does_not_create_a_missing_database(run, tmp_path):
    code, out, _ = run("doctor", "--db", tmp_path / "new" / "history.db")
    assert code == 0
    assert "not created yet" in out
    assert not (tmp_path / "new").exists()


def test_doctor_hides_secrets_but_shows_the_model(run, monkeypatch, db_path):
    monkeypatch.setenv("LLM_MODEL", "openai/gpt-4o-mini")
    monkeypatch.setenv("LLM_API_KEY", "sk-very-secret-1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-very-secret-2")
    monkeypatch.setenv("LLM_API_BASE", "https://user:hunter2@proxy.invalid:8443/v1")
    code, out, err = run("doctor", "--db", db_path)
    assert code == 1  # nothing answers at proxy.invalid: the model cannot be used
    assert "model: openai/gpt-4o-mini" in out
    assert "sk-very-secret" not in out + err and "hunter2" not in out + err
    assert "OPENAI_API_KEY           set (hidden)" in out
    assert "https://user:***@proxy.invalid:8443/v1" in out
    assert "LLM_MAX_TOKENS           2000" in out


def test_doctor_counts_records_waiting_in_the_outbox(run, repo, db_path):
    settings = load_settings(sqlite_db_path=db_path)
    settings.outbox_path.write_text('{"uid": "a"}\n\n{"uid": "b"}\n', encoding="utf-8")
    code, out, _ = run("doctor", "--db", db_path)
    assert code == 0
    assert "outbox: 2 record(s) waiting" in out


# -- the installed console script -------------------------------------------------------------------------


@pytest.mark.slow
def test_console_script_lists_history_and_fails_cleanly_on_a_bad_date(repo, db_path, tmp_path):
    saved = repo.save(make_record())
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SQLITE_", "LLM_"))}
    ok = subprocess.run(
        [_console_script(), "history", "--json", "--db", str(db_path)],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120, check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout) == [saved.to_dict()]
    bad = subprocess.run(
        [_console_script(), "history", "--until", "2026-02-30", "--db", str(db_path)],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120, check=False,
    )
    assert bad.returncode == 1
    assert bad.stdout == ""
    assert "Traceback" not in bad.stderr
    assert bad.stderr.strip().splitlines() == [
        "error: --until: '2026-02-30' is not a date; use YYYY-MM-DD or an ISO-8601 timestamp such as "
        "2026-01-03T10:15:00+00:00 (UTC if no offset)"
    ]


@pytest.mark.slow
def test_console_script_shows_a_progress_bar_only_on_a_terminal(db_path, tmp_path):
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SQLITE_", "LLM_"))}
    leader, follower = pty.openpty()
    with subprocess.Popen(
        [_console_script(), "demo-data", "--rows", "3000", "--db", str(db_path)],
        stdout=subprocess.PIPE, stderr=follower, text=True, cwd=tmp_path, env=env,
    ) as on_terminal:
        os.close(follower)  # the child holds its own copy; reading ends with EIO when it exits
        progress = b""
        try:
            while chunk := os.read(leader, 4096):
                progress += chunk
        except OSError:
            pass
        finally:
            os.close(leader)
        stdout = on_terminal.stdout.read()
    assert on_terminal.wait(timeout=120) == 0
    assert stdout.startswith("wrote 3,000 demo records")
    assert b"100.0% 3,000/3,000" in progress
    piped = subprocess.run(
        [_console_script(), "demo-data", "--rows", "3000", "--db", str(db_path)],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120, check=False,
    )
    assert piped.returncode == 0
    assert piped.stderr == ""
    assert _rows(db_path) == [(6000,)]


def test_store_commands_load_without_duckdb_pandas_or_dspy():
    # A process that opens the history through sqlite3 must never also load DuckDB's SQLite copy, and
    # `prompt-improver history` should not pay for importing the analytics or model stacks.
    probe = (
        "import sys, prompt_improver.commands.store_commands; "
        "print(sorted(m for m in ('duckdb', 'pandas', 'dspy', 'litellm') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("as_json", [False, True])
def test_history_piped_into_a_reader_that_stops_early_exits_quietly(run, db_path, tmp_path, as_json):
    assert run("demo-data", "--rows", "3000", "--db", db_path)[0] == 0
    # `history | head -1`: the reader closes the pipe after one line, long before 3,000 records are written.
    reader = subprocess.Popen(["head", "-1"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    writer = subprocess.run(
        [_console_script(), "history", "--limit", "3000", "--db", str(db_path), *(["--json"] if as_json else [])],
        stdout=reader.stdin, stderr=subprocess.PIPE, text=True, cwd=tmp_path, timeout=120, check=False,
    )
    reader.stdin.close()
    first_line = reader.stdout.read().decode()
    reader.wait(30)
    assert (writer.returncode, writer.stderr) == (0, "")
    assert first_line == "[\n" if as_json else first_line.split() == ["id", "timestamp", "(UTC)", "backend", "conf",
                                                                    "qual", "latency", "framework", "idea"]


def _foreign_database(path: Path, *, tables: bool, user_version: int) -> str:
    """Another application's SQLite file (WAL mode, as many apps use); returns its sha256."""
    import hashlib

    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("PRAGMA journal_mode = wal")
        if tables:
            conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
            conn.execute("CREATE TABLE tags (name TEXT)")
            conn.execute("INSERT INTO notes (body) VALUES ('my own data')")
        conn.execute(f"PRAGMA user_version = {user_version}")
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(("tables", "user_version", "found"), [
    (True, 0, "2 object(s) of its own (notes, tags)"),
    (True, 1, "2 object(s) of its own (notes, tags) and user_version 1"),  # looked like ours, half-way
    (False, 42, "user_version 42"),
])
@pytest.mark.parametrize("command", [
    ("history",), ("history", "--json"), ("prune", "--dry-run"), ("prune", "--older-than-days", "1"),
    ("demo-data", "--rows", "3"), ("compare", "--list"),
])
def test_a_database_of_another_application_is_never_migrated(run, tmp_path, tables, user_version, found, command):
    import hashlib

    path = tmp_path / "other-app.db"
    digest = _foreign_database(path, tables=tables, user_version=user_version)
    code, out, err = run(*command, "--db", path)
    _assert_one_line_error(
        code, err, f"error: {path} is an SQLite database of another application ({found}, no prompt_history table)",
        "left it unchanged", "point SQLITE_DB_PATH (or --db) at another file",
    )
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    assert out == ""


def test_doctor_names_another_applications_database_as_a_problem_and_leaves_it_alone(run, tmp_path):
    import hashlib

    path = tmp_path / "other-app.db"
    digest = _foreign_database(path, tables=True, user_version=3)
    code, out, err = run("doctor", "--db", path)
    assert code == 1
    assert "another application's database (no command writes into it)" in out
    assert "upgraded in place" not in out
    assert (f"problem: {path} is an SQLite database of another application (2 object(s) of its own (notes, tags) "
            "and user_version 3, no prompt_history table)") in err
    assert "fix: prompt-improver does not write into it and left it unchanged: point SQLITE_DB_PATH" in err
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest


def test_an_empty_sqlite_file_is_still_made_a_history(run, tmp_path):
    path = tmp_path / "empty.db"
    sqlite3.connect(path).close()  # a valid database with nothing in it (zero bytes)
    code, out, _ = run("history", "--db", path)
    assert code == 0 and out.strip() == "no records"
    assert _rows(path) == [(0,)]
