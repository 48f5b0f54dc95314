"""Opening the store the settings name: the prompt history (SQLite or PostgreSQL) and its experiments.

`prompt_improver.services.build_services` calls these; so does `prompt-improver copy`, which opens two
locations. Nothing here runs at import: migrations run when `open_repository` is called, never earlier.
"""

from __future__ import annotations

import sys
from pathlib import Path

from prompt_improver.settings import Settings
from store.sqlite.migrations import migrate
from store.sqlite.search_index import AUTO_BACKFILL_ROWS, backfill
from store.sqlite.repository import SQLitePromptRepository


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
