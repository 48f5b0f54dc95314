"""The Settings page: retention stored in the database, a confirmed prune, health, the model check."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest

from prompt_improver.settings import load_settings
from prompt_improver.wiring import open_repository
from store.timestamps import utc_now
from tests.app._support import open_app, texts
from tests.support.builders import make_record
from tests.support.fake_openai import FakeOpenAIServer, prose, status

SETTINGS = "views/settings.py"


def _seed(db_path: Path, ages_in_days: list[int]) -> None:
    repo = open_repository(load_settings(sqlite_db_path=db_path))
    now = utc_now()
    repo.save_many(make_record(timestamp=now - timedelta(days=age, hours=1)) for age in ages_in_days)


def _settings_value(db_path: Path, key: str) -> str | None:
    with closing(sqlite3.connect(db_path)) as conn, conn:
        row = conn.execute("SELECT value FROM app_settings WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def test_prune_needs_confirmation_and_deletes_only_records_older_than_the_window(app_db: Path) -> None:
    _seed(app_db, [1, 5, 20, 40, 45, 100])
    at = open_app(SETTINGS)
    assert not at.exception
    at.number_input(key="settings_retention_days").set_value(30).run()
    assert "3 records from" in texts(at) and "would be deleted" in texts(at)
    assert at.button(key="settings_prune").disabled  # no confirmation yet

    at.checkbox(key="settings_confirm").check().run()
    at.button(key="settings_prune").click().run()
    assert not at.exception
    with closing(sqlite3.connect(app_db)) as conn, conn:
        ages = sorted(
            round(days)
            for (days,) in conn.execute("SELECT julianday('now') - julianday(substr(timestamp, 1, 26)) FROM prompt_history")
        )
    assert ages == [1, 5, 20]
    page = texts(at)
    assert "Deleted 3 record(s)" in page
    backups = list((app_db.parent / "backups").glob("prompt_history-*.db"))
    assert len(backups) == 1 and str(backups[0]) in page
    with closing(sqlite3.connect(backups[0])) as conn, conn:  # the backup was taken before the delete
        assert conn.execute("SELECT count(*) FROM prompt_history").fetchone()[0] == 6


def test_retention_and_auto_prune_are_stored_in_the_database(app_db: Path) -> None:
    at = open_app(SETTINGS)
    at.number_input(key="settings_retention_days").set_value(90).run()
    at.button(key="settings_save_retention").click().run()
    at.toggle(key="settings_auto_cleanup").set_value(True).run()
    assert not at.exception
    assert _settings_value(app_db, "retention_days") == "90"
    assert _settings_value(app_db, "auto_cleanup") == "true"


def test_health_shows_rows_schema_integrity_outbox_and_breaker(app_db: Path) -> None:
    _seed(app_db, [1, 2])
    at = open_app(SETTINGS)
    metrics = {metric.label: metric.value for metric in at.metric}
    assert metrics["Records"] == "2"
    assert metrics["Integrity (quick_check)"] == "ok"
    assert metrics["Outbox"] == "0 waiting"
    assert metrics["Circuit breaker"] == "closed"
    assert int(metrics["Schema version"]) >= 2
    assert str(app_db) in [code.value for code in at.code]


def test_model_configuration_is_shown_with_the_key_masked_and_a_failing_check_says_why(
    app_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeOpenAIServer(default=status(500, "upstream exploded")) as server:
        monkeypatch.setenv("LLM_MODEL", "openai/fake-model")
        monkeypatch.setenv("LLM_API_BASE", server.base_url)
        monkeypatch.setenv("LLM_API_KEY", "sk-secret-abcd1234")
        monkeypatch.setenv("LLM_MAX_RETRIES", "0")
        at = open_app(SETTINGS)
        table = at.table[0].value
        assert "sk-secret" not in table.to_string() and "1234" in table.to_string()
        at.button(key="settings_test_connection").click().run()
    assert not at.exception
    assert any("Connection failed" in error.value and "upstream exploded" in error.value for error in at.error)


def test_a_working_model_answers_the_connection_check(app_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeOpenAIServer(default=prose("OK")) as server:
        monkeypatch.setenv("LLM_MODEL", "openai/fake-model")
        monkeypatch.setenv("LLM_API_BASE", server.base_url)
        at = open_app(SETTINGS)
        at.button(key="settings_test_connection").click().run()
        assert len(server.requests) == 1
    assert not at.exception
    assert any("Connected" in success.value and "'OK'" in success.value for success in at.success)


def test_an_unopenable_database_is_a_clear_error_and_the_other_pages_still_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SQLITE_DB_PATH", str(tmp_path))  # a directory, not a database file
    at = open_app(SETTINGS)
    assert not at.exception
    assert any("cannot be opened" in error.value and "is a directory" in error.value for error in at.error)
    at.switch_page("views/improve.py").run()
    assert not at.exception
    assert "Improve a prompt" in texts(at)


def test_an_unsaved_retention_says_which_value_is_stored(app_db: Path) -> None:
    _seed(app_db, [1, 100])
    at = open_app(SETTINGS)
    assert "Not saved" not in texts(at)
    at.number_input(key="settings_retention_days").set_value(60).run()
    assert "Not saved: the stored retention is still 30 days" in texts(at)  # SQLITE_RETENTION_DAYS default
    at.button(key="settings_save_retention").click().run()
    assert not at.exception
    assert "Not saved" not in texts(at)
    assert _settings_value(app_db, "retention_days") == "60"


def test_an_unopenable_database_is_reported_once_on_the_settings_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SQLITE_DB_PATH", str(tmp_path))  # a directory
    at = open_app(SETTINGS)
    assert not at.exception
    assert [error.value.count("cannot be opened") for error in at.error] == [1]
    assert "No health figures" in texts(at)


def test_a_password_in_the_api_base_is_masked_and_an_unreachable_server_is_named(
    app_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("LLM_MODEL", "openai/fake-model")
    monkeypatch.setenv("LLM_API_BASE", f"http://alice:hunter2@127.0.0.1:{port}/v1")
    at = open_app(SETTINGS)
    at.button(key="settings_test_connection").click().run()
    assert not at.exception
    shown = at.table[0].value.to_string() + " ".join(error.value for error in at.error)
    assert "hunter2" not in shown and f"http://alice:***@127.0.0.1:{port}/v1" in shown
    assert any("unreachable" in error.value and "LLM_API_BASE" in error.value for error in at.error)
