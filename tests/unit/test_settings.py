"""Settings from the environment and `.env`, and the settings the composition root resolves from them.

The autouse fixture in tests/conftest.py runs each test in an empty directory with the app's variables
removed, so `.env` here is a file the test itself wrote.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from prompt_improver.settings import Settings, SettingsError, load_settings
from prompt_improver.stored_settings import StoredSettings, auto_prune_at_start
from prompt_improver.wiring import open_repository
from store.errors import RepositoryError
from store.timestamps import utc_now
from tests.support.builders import make_record

ENV_EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"


def test_settings_use_the_original_environment_variable_names(monkeypatch):
    monkeypatch.setenv("SQLITE_DB_PATH", "somewhere/else.db")
    monkeypatch.setenv("SQLITE_RETENTION_DAYS", "90")
    monkeypatch.setenv("SQLITE_AUTO_CLEANUP", "true")
    monkeypatch.setenv("SQLITE_WAL_MODE", "false")
    monkeypatch.setenv("LLM_MODEL", "openai/gpt-4o-mini")
    monkeypatch.setenv("LLM_API_BASE", "http://127.0.0.1:11434/v1")
    monkeypatch.setenv("DSPY_FEWSHOT_ENABLED", "false")
    settings = load_settings()
    assert settings.sqlite_db_path == Path("somewhere/else.db")
    assert settings.sqlite_retention_days == 90
    assert settings.sqlite_auto_cleanup is True
    assert settings.sqlite_wal_mode is False
    assert settings.llm_model == "openai/gpt-4o-mini"
    assert settings.llm_api_base == "http://127.0.0.1:11434/v1"
    assert settings.dspy_fewshot_enabled is False


def test_defaults_keep_history_and_never_prune_unasked():
    settings = load_settings()
    assert settings.sqlite_enabled is True
    assert settings.sqlite_db_path == Path("data/prompt_history.db")
    assert settings.sqlite_retention_days == 30
    assert settings.sqlite_auto_cleanup is False
    assert settings.sqlite_wal_mode is True
    assert settings.llm_model is None


def test_settings_read_a_dotenv_file_in_the_working_directory(tmp_path):
    (tmp_path / ".env").write_text("SQLITE_RETENTION_DAYS=7\nLLM_MODEL=ollama_chat/qwen2.5\n", encoding="utf-8")
    settings = load_settings()
    assert settings.sqlite_retention_days == 7
    assert settings.llm_model == "ollama_chat/qwen2.5"


def test_the_environment_wins_over_dotenv(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text("SQLITE_RETENTION_DAYS=7\n", encoding="utf-8")
    monkeypatch.setenv("SQLITE_RETENTION_DAYS", "14")
    assert load_settings().sqlite_retention_days == 14


@pytest.mark.parametrize(
    "name, value",
    [
        ("SQLITE_RETENTION_DAYS", "0"),
        ("SQLITE_RETENTION_DAYS", "thirty"),
        ("SQLITE_WAL_MODE", "maybe"),
        ("SQLITE_AUTO_CLEANUP", "sometimes"),
        ("SQLITE_BUSY_TIMEOUT_MS", "-1"),
        ("LLM_TEMPERATURE", "3"),
        ("DSPY_FEWSHOT_K", "100"),
    ],
)
def test_an_invalid_value_fails_naming_the_setting_and_value(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=rf"{name}: .*{re.escape(repr(value))}"):
        load_settings()


def test_an_invalid_value_in_dotenv_fails_naming_the_setting(tmp_path):
    (tmp_path / ".env").write_text("SQLITE_WAL_MODE=perhaps\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="SQLITE_WAL_MODE"):
        load_settings()


@pytest.mark.parametrize("blank", ["", "   "])
def test_a_blank_model_means_no_model_is_configured(monkeypatch, blank):
    monkeypatch.setenv("LLM_MODEL", blank)
    assert load_settings().llm_model is None


def test_a_blank_model_in_dotenv_means_no_model_is_configured(tmp_path):
    (tmp_path / ".env").write_text("LLM_MODEL=\nLLM_API_BASE=\n", encoding="utf-8")
    settings = load_settings()
    assert settings.llm_model is None
    assert settings.llm_api_base is None


def _documented_names() -> set[str]:
    lines = ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
    return {line.split("=", 1)[0] for line in lines if re.match(r"^[A-Z][A-Z0-9_]*=", line)}


def test_env_example_documents_every_setting_and_nothing_else():
    assert _documented_names() == {name.upper() for name in Settings.model_fields}


def test_env_example_copied_to_dotenv_gives_the_defaults(tmp_path):
    (tmp_path / ".env").write_text(ENV_EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    assert load_settings().model_dump() == Settings(_env_file=None).model_dump()


def test_env_example_shows_a_hosted_and_a_local_model():
    text = ENV_EXAMPLE.read_text(encoding="utf-8")
    assert "LLM_MODEL=openai/gpt-4o-mini" in text and "OPENAI_API_KEY=" in text
    assert "LLM_API_BASE=http://127.0.0.1:11434/v1" in text and "ollama_chat/qwen2.5" in text


# -- what the composition root resolves ------------------------------------------------------------


def test_open_repository_creates_the_parent_directory_of_the_database(tmp_path, monkeypatch):
    monkeypatch.setenv("SQLITE_DB_PATH", str(tmp_path / "nested" / "deeper" / "history.db"))
    repo = open_repository(load_settings())
    saved = repo.save(make_record())
    assert (tmp_path / "nested" / "deeper" / "history.db").is_file()
    assert repo.get(saved.id) == saved


def test_open_repository_names_a_database_path_that_is_a_directory(tmp_path):
    (tmp_path / "taken").mkdir()
    with pytest.raises(RepositoryError, match="taken is a directory"):
        open_repository(load_settings(sqlite_db_path=tmp_path / "taken"))


def test_retention_days_stored_in_the_database_win_over_the_setting(db_path, monkeypatch):
    monkeypatch.setenv("SQLITE_RETENTION_DAYS", "30")
    settings = load_settings(sqlite_db_path=db_path)
    repo = open_repository(settings)
    assert StoredSettings.load(repo, settings).retention_days == 30
    repo.set_setting("retention_days", "90")
    assert StoredSettings.load(repo, settings).retention_days == 90


def test_a_corrupt_stored_retention_is_an_error_not_a_silent_fallback(db_path):
    settings = load_settings(sqlite_db_path=db_path)
    repo = open_repository(settings)
    repo.set_setting("retention_days", "ninety")
    with pytest.raises(RepositoryError, match="retention_days.*'ninety'"):
        StoredSettings.load(repo, settings).retention_days


def _repo_with_old_and_new_records(settings):
    repo = open_repository(settings)
    repo.save(make_record(timestamp=utc_now() - timedelta(days=45)))
    repo.save(make_record(timestamp=utc_now() - timedelta(days=1)))
    return repo


def test_auto_prune_does_nothing_by_default(db_path):
    settings = load_settings(sqlite_db_path=db_path)
    repo = _repo_with_old_and_new_records(settings)
    assert auto_prune_at_start(repo, settings) is None
    assert repo.get_statistics().total_count == 2


def test_auto_prune_deletes_records_outside_the_retention_window_when_enabled(db_path, monkeypatch):
    monkeypatch.setenv("SQLITE_AUTO_CLEANUP", "true")
    settings = load_settings(sqlite_db_path=db_path)
    repo = _repo_with_old_and_new_records(settings)
    assert auto_prune_at_start(repo, settings) == 1
    assert repo.get_statistics().total_count == 1


def test_the_database_auto_cleanup_switch_overrides_the_setting(db_path, monkeypatch):
    monkeypatch.setenv("SQLITE_AUTO_CLEANUP", "true")
    settings = load_settings(sqlite_db_path=db_path)
    repo = _repo_with_old_and_new_records(settings)
    repo.set_setting("auto_cleanup", "false")
    assert auto_prune_at_start(repo, settings) is None
    repo.set_setting("auto_cleanup", "true")
    repo.set_setting("retention_days", "60")
    assert auto_prune_at_start(repo, settings) == 0
    assert repo.get_statistics().total_count == 2


def test_outbox_path_defaults_beside_the_database_and_can_live_elsewhere(tmp_path, monkeypatch):
    monkeypatch.setenv("SQLITE_DB_PATH", "data/h.db")
    assert load_settings().outbox_path == Path("data/h.db.outbox.jsonl")
    monkeypatch.setenv("OUTBOX_PATH", "")  # blank means unset, as for every other setting
    assert load_settings().outbox_path == Path("data/h.db.outbox.jsonl")
    monkeypatch.setenv("OUTBOX_PATH", str(tmp_path / "other" / "outbox.jsonl"))
    assert load_settings().outbox_path == tmp_path / "other" / "outbox.jsonl"


@pytest.mark.parametrize(("value", "problem"), [
    (".", "OUTBOX_PATH: . is a directory; name a file such as outbox.jsonl"),
    ("data/h.db", "OUTBOX_PATH: is the database file itself; name another file"),
])
def test_an_outbox_path_that_would_destroy_records_is_refused(monkeypatch, value, problem):
    monkeypatch.setenv("SQLITE_DB_PATH", "data/h.db")
    monkeypatch.setenv("OUTBOX_PATH", value)
    with pytest.raises(SettingsError, match=re.escape(problem)):
        load_settings()
