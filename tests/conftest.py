"""Fixtures shared by every test directory. Area-specific fixtures live in `tests/support/`."""

from __future__ import annotations

from pathlib import Path

import pytest

# The throwaway PostgreSQL cluster (`postgres_cluster`, `postgres_url`) for the tests that need a server.
pytest_plugins = ["tests.support.postgres"]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A path for a fresh SQLite database file in the test's own temporary directory."""
    return tmp_path / "history.db"


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Settings read the environment and `.env`: tests must not see the developer's own model keys or
    # database, so every test starts in an empty directory with the app's variables removed.
    for name in (
        "SQLITE_ENABLED", "SQLITE_DB_PATH", "SQLITE_RETENTION_DAYS", "SQLITE_AUTO_CLEANUP", "SQLITE_WAL_MODE",
        "SQLITE_BUSY_TIMEOUT_MS", "LLM_MODEL", "LLM_API_BASE", "LLM_API_KEY", "LLM_TIMEOUT_S",
        "LLM_MAX_RETRIES", "LLM_TEMPERATURE", "LLM_MAX_TOKENS", "LLM_CACHE", "LLM_CONCURRENCY", "JUDGE_MODEL",
        "JUDGE_API_BASE", "JUDGE_API_KEY",
        "DSPY_FEWSHOT_ENABLED", "DSPY_FEWSHOT_K", "DSPY_PROGRAM_DIR", "OPENAI_API_KEY", "ANTHROPIC_API_KEY",
        "OUTBOX_PATH", "DATABASE_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
