"""Plain functions the composition roots (the CLI, the dashboard) call to build the store and the model from settings.

Nothing here runs at import: migrations run when `open_repository` is called, never earlier.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from prompt_improver.settings import Settings
from store.errors import RepositoryError
from store.sqlite.migrations import migrate
from store.sqlite.search_index import AUTO_BACKFILL_ROWS, backfill
from store.sqlite.repository import SQLitePromptRepository

logger = logging.getLogger(__name__)

RETENTION_DAYS_KEY = "retention_days"
AUTO_CLEANUP_KEY = "auto_cleanup"
MAX_RETENTION_DAYS = 36_500


def open_repository(settings: Settings) -> SQLitePromptRepository:
    """Bring the database's schema up to date (creating the file and its directory) and return a
    repository on it, configured with the settings' journal mode and busy timeout.

    With DATABASE_URL set, the database is the PostgreSQL one it names (see `store/postgres/`).

    Raises:
        RepositoryConnectionError: from `migrate`, unchanged (permissions, a directory, not a database,
            a newer schema, a server that cannot be reached).
    """
    if settings.database_url:
        return open_location(settings.database_url, settings)
    path = settings.sqlite_db_path
    migrate(path, wal=settings.sqlite_wal_mode, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    # A small upgraded history gets its search index at once; a large one by `prompt-improver search-index`.
    backfill(path, busy_timeout_ms=settings.sqlite_busy_timeout_ms, max_rows=AUTO_BACKFILL_ROWS)
    return SQLitePromptRepository(
        path, busy_timeout_ms=settings.sqlite_busy_timeout_ms, wal=settings.sqlite_wal_mode
    )


def open_location(location: str | Path, settings: Settings):
    """A migrated repository on `location`: a `postgresql://` URL or an SQLite file path.

    Raises:
        RepositoryConnectionError: the database cannot be reached, created or migrated.
    """
    from store.postgres.urls import is_postgres_url

    if not is_postgres_url(str(location)):
        return open_repository(settings.model_copy(update={"sqlite_db_path": Path(location), "database_url": None}))
    from store.postgres.migrations import migrate as migrate_postgres
    from store.postgres.repository import PostgresPromptRepository
    from store.postgres.search_index import AUTO_BACKFILL_ROWS as AUTO_ROWS
    from store.postgres.search_index import backfill as backfill_postgres

    migrate_postgres(str(location), timeout_s=settings.database_timeout_s)
    # As for SQLite: a small upgraded history gets its search index now, a large one by `search-index`.
    backfill_postgres(str(location), max_rows=AUTO_ROWS, timeout_s=settings.database_timeout_s)
    return PostgresPromptRepository(str(location), timeout_s=settings.database_timeout_s)


def open_experiments(settings: Settings, history):
    """The experiment repository beside `history` (the repository `open_repository` returned)."""
    postgres = sys.modules.get("store.postgres.repository")  # not imported: not a PostgreSQL history
    if postgres is not None and isinstance(history, postgres.PostgresPromptRepository):
        from store.postgres.experiments import PostgresExperimentRepository

        return PostgresExperimentRepository(history)
    from store.sqlite.experiments import SQLiteExperimentRepository

    return SQLiteExperimentRepository(history.db_path, settings.sqlite_busy_timeout_ms)


def history_location(settings: Settings) -> str | Path:
    """Where the history lives: DATABASE_URL when set, else the SQLite file (what analytics read)."""
    return settings.database_url or settings.sqlite_db_path


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


JUDGE_TEMPERATURE = 0.0  # a judge should give the same answer to the same question: its answers are cached


def judge_lm_arguments(settings: Settings) -> dict[str, Any] | None:
    """`build_lm`'s arguments for the pairwise judge (JUDGE_MODEL, JUDGE_API_BASE, JUDGE_API_KEY; the LLM_*
    timeout, retries and max tokens; temperature 0; response cache off: verdicts are stored instead), or
    None when JUDGE_MODEL is unset."""
    if not settings.judge_model:
        return None
    return {
        "model": settings.judge_model, "api_base": settings.judge_api_base, "api_key": settings.judge_api_key,
        "timeout_s": settings.llm_timeout_s, "max_retries": settings.llm_max_retries,
        "temperature": JUDGE_TEMPERATURE, "max_tokens": settings.llm_max_tokens, "cache": False,
    }


def build_judge_lm(settings: Settings, build: Callable[..., Any] | None = None) -> Any | None:
    """The judge's DSPy LM, or None when JUDGE_MODEL is unset.

    Temperature 0 where the model accepts it; a model that refuses it (OpenAI's reasoning models require
    temperature 1 and a large token budget) gets the provider's defaults for both instead.

    Args:
        build: called with `judge_lm_arguments`' keywords (default `pipeline.lm.build_lm`; the dashboard
            passes its cached factory).

    Raises:
        ModelNotConfigured: JUDGE_MODEL cannot be used either way (the message names JUDGE_MODEL).
    """
    from pipeline.errors import ModelNotConfigured

    arguments = judge_lm_arguments(settings)
    if arguments is None:
        return None
    if build is None:
        from pipeline.lm import build_lm as build
    try:
        return build(**arguments)
    except ModelNotConfigured as refused:
        try:
            return build(**arguments | {"temperature": None, "max_tokens": None})
        except ModelNotConfigured:
            reason = str(refused).split(": ", 1)[-1].split(" (set LLM_", 1)[0]  # the LLM_* hint is not the judge's
            raise ModelNotConfigured(f"the judge cannot be used (JUDGE_MODEL={settings.judge_model!r}): {reason}") from None


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
