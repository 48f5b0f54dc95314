"""The migration runner for PostgreSQL: brings a database to `SCHEMA_VERSION`, each step in its own transaction.

Every step takes a transaction-scoped advisory lock first and re-reads the version under it, so processes
starting at once (several CLI runs, dashboard replicas) apply each migration exactly once. A database
whose version is newer than this code knows is refused before anything is written; so is a database with
a `prompt_history` table that this code did not make (no version table).
"""

from __future__ import annotations

import logging

import psycopg

from store.errors import RepositoryConnectionError
from store.postgres.connection import mask_url, translate_errors
from store.postgres.schema import MIGRATIONS, SCHEMA_VERSION

logger = logging.getLogger(__name__)

VERSION_TABLE = "prompt_improver_schema"
# Any constant works as long as every process uses the same one: "prompt-improver" as bytes, shortened.
MIGRATION_LOCK = 0x70726F6D707469


def newer_schema_error(url: str, version: int) -> RepositoryConnectionError:
    """The error for a database migrated by a newer version of the code (which we must not touch)."""
    return RepositoryConnectionError(
        f"{mask_url(url)} has schema version {version}, newer than the {SCHEMA_VERSION} this version of "
        "prompt-improver knows; upgrade prompt-improver to use it (the database was left untouched)"
    )


def read_version(conn: psycopg.Connection) -> int | None:
    """The stored schema version; 0 for an empty database, None for one with a history table of unknown origin."""
    tables = {name for (name,) in conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
        "AND table_name IN (%s, 'prompt_history')", (VERSION_TABLE,)
    )}
    if VERSION_TABLE in tables:
        row = conn.execute(f"SELECT version FROM {VERSION_TABLE}").fetchone()
        return int(row[0]) if row else 0
    return None if "prompt_history" in tables else 0


def _check(url: str, version: int | None) -> int:
    if version is None:
        raise RepositoryConnectionError(
            f"{mask_url(url)} already has a prompt_history table that prompt-improver did not create (no "
            f"{VERSION_TABLE} table); it was left unchanged: point DATABASE_URL at another database"
        )
    if version > SCHEMA_VERSION:
        raise newer_schema_error(url, version)
    return version


def _apply_next(conn: psycopg.Connection, url: str) -> bool:
    """Apply the next pending migration in its own transaction; False when none is pending."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        version = _check(url, read_version(conn))  # re-read under the lock: another process may have migrated
        if version == SCHEMA_VERSION:
            return False
        if version == 0:
            conn.execute(f"CREATE TABLE IF NOT EXISTS {VERSION_TABLE} (version integer NOT NULL)")
            conn.execute(f"INSERT INTO {VERSION_TABLE} (version) VALUES (0)")
        conn.execute(MIGRATIONS[version])
        conn.execute(f"UPDATE {VERSION_TABLE} SET version = %s", (version + 1,))
    logger.info("migrated %s to schema version %d", mask_url(url), version + 1)
    return True


def migrate(url: str, *, timeout_s: float = 5.0) -> int:
    """Create or upgrade the schema in the database at `url`; return its schema version. Idempotent.

    Raises:
        RepositoryConnectionError: the server cannot be reached, the user lacks privileges, the schema is
            newer than this code knows, or a history table of unknown origin is there (left untouched).
    """
    with translate_errors(url), psycopg.connect(url, autocommit=True, connect_timeout=max(1, round(timeout_s))) as conn:
        _check(url, read_version(conn))  # refuse before taking any lock or writing anything
        while _apply_next(conn, url):
            pass
        return _check(url, read_version(conn))


def schema_version(url: str, *, timeout_s: float = 5.0) -> int | None:
    """The schema version of the database at `url` (0 when empty, None for an unknown history table). Reads only."""
    with translate_errors(url), psycopg.connect(url, autocommit=True, connect_timeout=max(1, round(timeout_s))) as conn:
        return read_version(conn)
