"""Plain functions the composition roots (the CLI, the dashboard) call to build the store and the model from settings.

Nothing here runs at import: migrations run when `open_repository` is called, never earlier.
"""

from __future__ import annotations

import logging
from typing import Any

from prompt_improver.settings import Settings
from store.errors import RepositoryError
from store.migrations import migrate
from store.sqlite_repository import SQLitePromptRepository

logger = logging.getLogger(__name__)

RETENTION_DAYS_KEY = "retention_days"
AUTO_CLEANUP_KEY = "auto_cleanup"
MAX_RETENTION_DAYS = 36_500


def open_repository(settings: Settings) -> SQLitePromptRepository:
    """Bring the database's schema up to date (creating the file and its directory) and return a
    repository on it, configured with the settings' journal mode and busy timeout.

    Raises:
        RepositoryConnectionError: from `migrate`, unchanged (permissions, a directory, not a database,
            a newer schema).
    """
    path = settings.sqlite_db_path
    migrate(path, wal=settings.sqlite_wal_mode, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    return SQLitePromptRepository(
        path, busy_timeout_ms=settings.sqlite_busy_timeout_ms, wal=settings.sqlite_wal_mode
    )


def build_lm_from_settings(settings: Settings, *, cache: bool | None = None) -> Any:
    """The DSPy LM the settings describe (DSPy is imported here, not at module import).

    Args:
        settings: the settings in force (LLM_MODEL, LLM_API_BASE, LLM_API_KEY, timeout, retries, ...).
        cache: overrides LLM_CACHE (experiments and connection checks pass False: they measure the model).

    Raises:
        ModelNotConfigured: LLM_MODEL is not set; the message says how to configure one.
    """
    from pipeline.lm import build_lm

    return build_lm(settings.llm_model, max_retries=settings.llm_max_retries, **_model_options(settings, cache))


def build_model_client_from_settings(settings: Settings, *, cache: bool | None = None) -> Any:
    """The `ModelClient` the settings describe: structured output with fallback, bounded attempts.

    Build it once per process (it remembers which output mode the server accepts).

    Raises:
        ModelNotConfigured: LLM_MODEL is not set; the message says how to configure one.
    """
    from pipeline.model_client import build_model_client

    return build_model_client(
        settings.llm_model, max_retries=settings.llm_max_retries, total_timeout_s=settings.llm_total_timeout_s,
        **_model_options(settings, cache),
    )


def _model_options(settings: Settings, cache: bool | None) -> dict[str, Any]:
    return {
        "api_base": settings.llm_api_base, "api_key": settings.llm_api_key, "timeout_s": settings.llm_timeout_s,
        "temperature": settings.llm_temperature, "max_tokens": settings.llm_max_tokens,
        "cache": settings.llm_cache if cache is None else cache,
    }


def retention_days(repo, settings: Settings) -> int:
    """Days of history to keep: the database's `retention_days` setting (chosen on the dashboard's
    Settings page, shared by every session) if stored, else `SQLITE_RETENTION_DAYS`.

    Raises:
        RepositoryError: the stored value is not a whole number of days between 1 and 36,500.
    """
    stored = repo.get_setting(RETENTION_DAYS_KEY)
    if stored is None:
        return settings.sqlite_retention_days
    try:
        days = int(stored.strip())
    except ValueError:
        days = 0
    if not 1 <= days <= MAX_RETENTION_DAYS:
        raise RepositoryError(
            f"the database setting {RETENTION_DAYS_KEY!r} is {stored!r}, not a whole number of days between 1 "
            f"and {MAX_RETENTION_DAYS:,}; set it again on the dashboard's Settings page"
        )
    return days


def auto_cleanup_enabled(repo, settings: Settings) -> bool:
    """Whether to prune at start: the database's `auto_cleanup` ('true'/'false') overrides
    `SQLITE_AUTO_CLEANUP`.

    Raises:
        RepositoryError: the stored value is neither 'true' nor 'false'.
    """
    stored = repo.get_setting(AUTO_CLEANUP_KEY)
    if stored is None:
        return settings.sqlite_auto_cleanup
    value = stored.strip().lower()
    if value not in ("true", "false"):
        raise RepositoryError(
            f"the database setting {AUTO_CLEANUP_KEY!r} is {stored!r}, expected 'true' or 'false'; "
            "set it again on the dashboard's Settings page"
        )
    return value == "true"


def auto_prune_at_start(repo, settings: Settings) -> int | None:
    """Delete records older than the retention window if auto-cleanup is on.

    Returns:
        The number of records deleted, or None when auto-cleanup is off (the default: deleting a
        user's history must be a choice).
    """
    if not auto_cleanup_enabled(repo, settings):
        return None
    days = retention_days(repo, settings)
    deleted = repo.delete_older_than(days)
    logger.info("auto-cleanup deleted %d records older than %d days", deleted, days)
    return deleted
