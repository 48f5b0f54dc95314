"""`prompt-improver stats` and `export` end to end, each in a fresh process as a user runs them."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.analytics_db import create_history, record_at


def cli(*args: str) -> subprocess.CompletedProcess:
    # The installed console script, as a user runs it (`python -m prompt_improver.cli` would load the
    # CLI module twice, as __main__ and by name).
    script = Path(sys.executable).with_name("prompt-improver")
    return subprocess.run([str(script), *args], capture_output=True, text=True, timeout=180)


@pytest.fixture
def history(db_path):
    return create_history(db_path, [
        record_at("2026-01-10 12:00:00", backend="few-shot", confidence=0.8, quality=0.7, latency_ms=100.0),
        record_at("2026-01-11 12:00:00", backend="zero-shot", confidence=0.6, quality=0.5, latency_ms=300.0,
                  original_idea="=HYPERLINK(\"http://x\")"),
        record_at("2026-01-12 23:59:59.999999", backend="few-shot", confidence=None, quality=0.9, latency_ms=500.0),
        record_at("2026-01-13 00:00:00", backend="few-shot", confidence=0.1, latency_ms=900.0),
    ])


def test_stats_json_has_the_original_keys_and_the_new_ones(history):
    result = cli("stats", "--db", str(history), "--since", "2026-01-10", "--until", "2026-01-12", "--json")
    assert result.returncode == 0, result.stderr
    stats = json.loads(result.stdout)
    assert stats["total_count"] == 3
    assert stats["average_confidence"] == pytest.approx(0.7)
    assert stats["average_latency_ms"] == pytest.approx(300.0)
    assert stats["backend_distribution"] == {"zero-shot": 1, "few-shot": 2}
    assert stats["p50_latency_ms"] == pytest.approx(300.0) and stats["p95_latency_ms"] == pytest.approx(480.0)
    assert stats["average_quality"] == pytest.approx(0.7)
    assert stats["by_backend"]["few-shot"]["count"] == 2
    assert set(stats) == {
        "start", "end", "total_count", "average_confidence", "average_latency_ms", "backend_distribution",
        "p50_latency_ms", "p95_latency_ms", "average_quality", "by_backend",
    }
    assert stats["by_backend"]["zero-shot"] == {
        "count": 1, "average_confidence": pytest.approx(0.6), "average_quality": pytest.approx(0.5),
        "average_latency_ms": 300.0, "p50_latency_ms": 300.0, "p95_latency_ms": 300.0,
    }
    few = stats["by_backend"]["few-shot"]  # 100 ms (0.8, 0.7) and 500 ms (no confidence, 0.9)
    assert (few["average_confidence"], few["average_quality"]) == (pytest.approx(0.8), pytest.approx(0.8))
    assert (few["p50_latency_ms"], few["p95_latency_ms"]) == (pytest.approx(300.0), pytest.approx(480.0))


def test_stats_table_and_backend_filter(history):
    result = cli("stats", "--db", str(history), "--backend", "zero_shot")
    assert result.returncode == 0, result.stderr
    assert "2026-01-10 .. 2026-01-13 (UTC, inclusive)" in result.stdout  # all time: the first to the last record
    assert "few-shot" not in result.stdout
    assert "records" in result.stdout and "0.600" in result.stdout


def test_a_bad_date_is_a_one_line_usage_error_naming_value_and_format(history):
    result = cli("stats", "--db", str(history), "--since", "10/01/2026")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.strip() == (
        "error: --since: '10/01/2026' is not a date; use YYYY-MM-DD or an ISO-8601 timestamp such as "
        "2026-01-03T10:15:00+00:00 (UTC if no offset)"
    )  # word for word what `history` says: one parser


@pytest.mark.parametrize("command", ["stats", "export"])
def test_stats_and_export_accept_timestamps_as_history_does(history, tmp_path, command):
    # Records at 2026-01-10 12:00, 01-11 12:00, 01-12 23:59:59.999999 and 01-13 00:00.
    since, until = "2026-01-10T12:00:01Z", "2026-01-12 23:59:59.999999"
    out = tmp_path / "out.csv"
    extra = ["-o", str(out)] if command == "export" else ["--json"]
    result = cli(command, "--db", str(history), "--since", since, "--until", until, *extra)
    assert result.returncode == 0, result.stderr
    if command == "stats":
        stats = json.loads(result.stdout)
        assert stats["total_count"] == 2
        assert (stats["start"], stats["end"]) == ("2026-01-10T12:00:01+00:00", "2026-01-12T23:59:59.999999+00:00")
    else:
        assert result.stdout.strip() == f"2 rows written to {out}"
    listed = cli("history", "--db", str(history), "--since", since, "--until", until, "--json")
    assert len(json.loads(listed.stdout)) == 2  # the same records, the same forms
    reversed_range = cli(command, "--db", str(history), "--since", "2026-01-12", "--until", "2026-01-11T23:00", *extra)
    assert reversed_range.returncode == 1 and "is not before --until" in reversed_range.stderr


def test_export_writes_records_and_prints_the_row_count(history, tmp_path):
    out = tmp_path / "records.csv"
    result = cli("export", "--db", str(history), "--until", "2026-01-12", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"3 rows written to {out}"
    with open(out, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["latency_ms"] for row in rows] == ["100.0", "300.0", "500.0"]
    assert rows[1]["original_idea"] == "'=HYPERLINK(\"http://x\")"
    assert json.loads(rows[0]["guardrails"])[0] == "Keep it under 200 words"


def test_export_summary_has_one_row_per_day_and_backend(history, tmp_path):
    out = tmp_path / "summary.csv"
    result = cli("export", "--db", str(history), "--summary", "--backend", "few-shot", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"3 rows written to {out}"
    with open(out, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["day", "backend", "count", "avg_confidence", "avg_quality", "p50_latency_ms", "p95_latency_ms"]
    assert rows[1] == ["2026-01-10", "few-shot", "1", "0.8", "0.7", "100.0", "100.0"]
    assert rows[2][:4] == ["2026-01-12", "few-shot", "1", ""]


def _one_line_error(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 1 and result.stdout == "", (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize("command", [("stats",), ("export", "-o", "out.csv"), ("export", "--summary", "-o", "out.csv")])
def test_a_directory_as_the_database_is_named_as_such_with_the_fix(tmp_path, command):
    folder = tmp_path / "history"
    folder.mkdir()
    line = _one_line_error(cli(*command[:1], "--db", str(folder), *command[1:]))
    assert line == (
        f"error: {folder} is a directory, not a database file; point SQLITE_DB_PATH (or --db) at a file such as "
        f"{folder / 'prompt_history.db'}"
    )


@pytest.mark.parametrize("command", ["stats", "export"])
def test_a_file_that_is_not_a_database_is_named_as_such_with_the_fix(tmp_path, command):
    notes = tmp_path / "notes.txt"
    notes.write_text("shopping list: milk, eggs\n" * 50)
    line = _one_line_error(cli(command, "--db", str(notes), "-o", str(tmp_path / "o.csv")) if command == "export"
                           else cli(command, "--db", str(notes)))
    assert line == (
        f"error: {notes} is not an SQLite database (its header is not 'SQLite format 3'); move the file away or "
        "point SQLITE_DB_PATH (or --db) at another file"
    )
    assert not (tmp_path / "o.csv").exists()


def test_a_newer_schema_is_refused_by_stats_and_export_and_left_untouched(history, tmp_path):
    import sqlite3
    from contextlib import closing

    from store.sqlite.schema import SCHEMA_VERSION

    with closing(sqlite3.connect(history)) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    before = history.read_bytes()
    expected = (
        f"error: {history} has schema version {SCHEMA_VERSION + 1}, newer than the {SCHEMA_VERSION} this version of "
        "prompt-improver knows; upgrade prompt-improver to open it (the file was left untouched)"
    )
    assert _one_line_error(cli("stats", "--db", str(history))) == expected
    assert _one_line_error(cli("export", "--db", str(history), "-o", str(tmp_path / "o.csv"))) == expected
    assert history.read_bytes() == before


def test_the_original_designs_database_is_not_misread_and_the_message_says_how_to_upgrade(tmp_path):
    from tests.support.legacy_schema import LEGACY_ROWS, create_legacy_database

    legacy = tmp_path / "legacy.db"
    create_legacy_database(legacy)
    line = _one_line_error(cli("stats", "--db", str(legacy)))
    assert "has a prompt_history table but schema version 0" in line
    assert f"`prompt-improver history --limit 1 --db {legacy}`" in line
    # Following the advice upgrades the file; then stats answers over every original row.
    upgrade = cli("history", "--limit", "1", "--db", str(legacy))
    assert upgrade.returncode == 0, upgrade.stderr
    stats = cli("stats", "--db", str(legacy), "--json")
    assert stats.returncode == 0, stats.stderr
    assert json.loads(stats.stdout)["total_count"] == len(LEGACY_ROWS)


def test_an_earlier_releases_database_is_refused_with_the_upgrade_then_read_after_it(tmp_path):
    # A history left at schema version 4 by an earlier release: its table lacks `metric_version`, which the
    # analytics read. Before the check, stats and export died with a DuckDB binder error and a traceback.
    import sqlite3
    from contextlib import closing

    from store.sqlite.schema import SCHEMA_VERSION
    from tests.support.legacy_schema import database_at_version
    from tests.support.search_history import insert_texts

    old = tmp_path / "old.db"
    database_at_version(old, 4)
    with closing(sqlite3.connect(old)) as conn, conn:
        insert_texts(conn, [{"original_idea": f"idea {i}", "context": "", "improved_prompt": "p", "role": "",
                             "directive": "", "guardrails": "[]"} for i in range(3)])
    before = old.read_bytes()
    expected = (
        f"error: {old} has schema version 4, older than the {SCHEMA_VERSION} this version of prompt-improver reads "
        f"(the analytics never write to the file); upgrade it in place by running "
        f"`prompt-improver history --limit 1 --db {old}` once (or starting the dashboard on it)"
    )
    assert _one_line_error(cli("stats", "--db", str(old))) == expected
    assert _one_line_error(cli("export", "--db", str(old), "-o", str(tmp_path / "o.csv"))) == expected
    assert old.read_bytes() == before and not (tmp_path / "o.csv").exists()
    upgrade = cli("history", "--limit", "1", "--db", str(old))
    assert upgrade.returncode == 0, upgrade.stderr
    stats = cli("stats", "--db", str(old), "--json")
    assert stats.returncode == 0, stats.stderr
    assert json.loads(stats.stdout)["total_count"] == 3


def test_the_first_and_last_days_a_date_can_name_are_valid_bounds(history, tmp_path):
    # 9999-12-31 has no next midnight and 0001-01-01 no previous period: neither may crash the command.
    everything = json.loads(cli("stats", "--db", str(history), "--since", "0001-01-01", "--until", "9999-12-31",
                                "--json").stdout)
    assert everything["total_count"] == 4 and everything["start"] == "0001-01-01"
    assert json.loads(cli("stats", "--db", str(history), "--since", "9999-12-31", "--json").stdout)["total_count"] == 0
    out = tmp_path / "all.csv"
    result = cli("export", "--db", str(history), "--since", "0001-01-01", "--until", "9999-12-31", "-o", str(out))
    assert result.returncode == 0 and result.stdout.strip() == f"4 rows written to {out}", result.stderr


def test_an_export_ending_before_the_year_1000_holds_no_later_records(history, tmp_path):
    # The SQLite range is compared as text; an unpadded year ("500-01-02...") sorted after "2026-...".
    out = tmp_path / "ancient.csv"
    result = cli("export", "--db", str(history), "--until", "0500-01-01", "-o", str(out))
    assert result.returncode == 0 and result.stdout.strip() == f"0 rows written to {out}", result.stderr
    assert json.loads(cli("stats", "--db", str(history), "--until", "0500-01-01", "--json").stdout)["total_count"] == 0


def test_a_database_locked_by_another_writer_is_named_with_what_to_do(tmp_path):
    # Only a rollback-journal database can be locked against readers (WAL readers never wait).
    import sqlite3

    from store.sqlite.migrations import migrate

    path = tmp_path / "locked.db"
    migrate(path, wal=False)
    create_history(path, [record_at("2026-01-10 10:00:00")])
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("PRAGMA journal_mode = delete")
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("INSERT INTO app_settings VALUES ('lock', 'held')")
        line = _one_line_error(cli("stats", "--db", str(path)))
    finally:
        holder.close()
    assert line.startswith(f"error: {path} stayed locked by another process longer than SQLite waits (database is locked)")
    assert line.endswith("retry when it has finished")
    assert json.loads(cli("stats", "--db", str(path), "--json").stdout)["total_count"] == 1


@pytest.mark.parametrize("command", ["stats", "export"])
def test_a_missing_extension_is_one_line_naming_the_pinned_wheel(history, tmp_path, monkeypatch, command):
    import duckdb

    monkeypatch.setenv("PROMPT_IMPROVER_SQLITE_EXTENSION", str(tmp_path / "missing.duckdb_extension"))
    (tmp_path / "empty-repository").mkdir()
    monkeypatch.setenv("PROMPT_IMPROVER_DUCKDB_EXTENSION_REPOSITORY", str(tmp_path / "empty-repository"))
    monkeypatch.setenv("HOME", str(tmp_path))  # nor one installed in ~/.duckdb
    out = tmp_path / "o.csv"
    line = _one_line_error(cli(command, "--db", str(history), *(["-o", str(out)] if command == "export" else [])))
    assert line.startswith("error: DuckDB's sqlite extension cannot be loaded: ")
    assert line.endswith(
        f"Fix: pip install duckdb-extension-sqlite-scanner=={duckdb.__version__} (the version must equal duckdb's)"
    )
    assert not out.exists()


@pytest.mark.parametrize("target", [
    "history.db", "history.db-wal", "link.db", "history.db.analytics.duckdb", "history.db.outbox.jsonl",
    "outbox-link.jsonl", "history.db.outbox.jsonl.corrupt",
])
def test_export_never_writes_over_the_history_it_reads_nor_the_outbox(history, target):
    (history.parent / "link.db").symlink_to(history)
    outbox = history.parent / "history.db.outbox.jsonl"
    outbox.write_text('{"uid": "waiting"}\n', encoding="utf-8")  # the only copy of a record not yet stored
    (history.parent / "outbox-link.jsonl").symlink_to(outbox)
    before, outbox_before = history.read_bytes(), outbox.read_bytes()
    out = history.parent / target
    line = _one_line_error(cli("export", "--db", str(history), "-o", str(out)))
    assert line == (
        f"error: -o {out} is the history database {history} (or one of its files, or the outbox {outbox}); "
        "writing the CSV there would destroy the history: name another file"
    )
    assert history.read_bytes() == before and outbox.read_bytes() == outbox_before
    assert json.loads(cli("stats", "--db", str(history), "--json").stdout)["total_count"] == 4


@pytest.mark.parametrize("summary", [False, True])
def test_a_report_that_cannot_be_written_is_named_as_the_report_not_the_database(history, summary):
    # /proc accepts no new files, even from root.
    line = _one_line_error(cli("export", "--db", str(history), *(["--summary"] if summary else []), "-o",
                               "/proc/report.csv"))
    assert line == (
        'error: cannot write the CSV report /proc/report.csv (Cannot open file "/proc/report.csv": No such file or '
        "directory); write it to a file in a directory you can write, with free space"
    )


@pytest.mark.parametrize("command", ["stats", "export"])
def test_an_invalid_setting_stops_stats_and_export_even_with_db(history, tmp_path, monkeypatch, command):
    monkeypatch.setenv("SQLITE_RETENTION_DAYS", "0")
    line = _one_line_error(cli(command, "--db", str(history), *(["-o", str(tmp_path / "o.csv")] if command == "export" else [])))
    assert line == "error: invalid setting(s): SQLITE_RETENTION_DAYS: Input should be greater than or equal to 1 (got '0')"


@pytest.mark.parametrize("command", ["stats", "export"])
def test_a_device_or_an_empty_db_option_is_refused_not_read_as_an_empty_history(tmp_path, command):
    extra = ["-o", str(tmp_path / "o.csv")] if command == "export" else []
    line = _one_line_error(cli(command, "--db", "/dev/null", *extra))
    assert line.startswith("error: /dev/null is not a regular file (a device, a pipe or a socket)")
    # `--db ''` is refused, as for every other command, not read as the default database.
    line = _one_line_error(cli(command, "--db", "", *extra))
    assert line.startswith("error: invalid setting(s): SQLITE_DB_PATH: ") and "is a directory, not a database file" in line


HARMLESS = ["plain", "a=b", "'quoted", "1-2", " =x", "é=mc²"]
FORMULAS = ["=1+1", "+cmd", "-2+3", "@SUM(A1)", "\t=x", "\r=x", "=HYPERLINK(\"http://x\")"]


def test_the_export_a_user_runs_neutralises_formulas_and_leaves_other_text_alone(db_path, tmp_path):
    texts = FORMULAS + HARMLESS
    create_history(db_path, [
        record_at(f"2026-01-10 10:{i:02d}:00", role=text, framework=text, context=text, backend="few-shot")
        for i, text in enumerate(texts)
    ])
    out = tmp_path / "report.csv"
    result = cli("export", "--db", str(db_path), "-o", str(out))
    assert result.returncode == 0, result.stderr
    with open(out, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    expected = ["'" + text for text in FORMULAS] + HARMLESS
    assert [row["role"] for row in rows] == expected
    assert [row["framework"] for row in rows] == expected and [row["context"] for row in rows] == expected


def test_stats_json_rounds_to_the_reports_precision_without_float_noise(db_path):
    create_history(db_path, [
        record_at("2026-01-10 12:00:00", confidence=0.1, quality=0.1, latency_ms=100.1),
        record_at("2026-01-10 13:00:00", confidence=0.2, quality=0.2, latency_ms=200.2),
    ])
    result = cli("stats", "--db", str(db_path), "--json")
    assert result.returncode == 0, result.stderr
    assert re.search(r"\d\.\d{7,}", result.stdout) is None, result.stdout  # e.g. 0.15000000000000002
    stats = json.loads(result.stdout)
    assert stats["average_confidence"] == 0.15 and stats["average_latency_ms"] == 150.15
    assert stats["by_backend"]["few-shot"]["average_quality"] == 0.15
