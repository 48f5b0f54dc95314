"""`doctor`'s database section for a PostgreSQL history (DATABASE_URL): reads only, migrates nothing."""

from __future__ import annotations

from prompt_improver.commands.doctor import format_size
from prompt_improver.settings import Settings
from store.errors import RepositoryError


def print_postgres(settings: Settings, problems: list[tuple[str, str]]) -> None:
    """Print the server's version, the schema version, the row count and the table's size (password masked)."""
    from store.postgres.urls import mask_url
    from store.postgres.repository import PostgresPromptRepository
    from store.postgres.schema import SCHEMA_VERSION

    url = settings.database_url or ""
    print("database:")
    print(f"  url             {mask_url(url)}")
    try:
        with PostgresPromptRepository(url, timeout_s=settings.database_timeout_s) as repo:
            health = repo.health()
    except RepositoryError as error:
        print("  status          cannot be reached")
        problems.append((f"database {mask_url(url)} cannot be used: {error}", str(error).rsplit("; ", 1)[-1]))
        return
    print(f"  server          {health.journal_mode}")
    print(f"  schema version  {health.schema_version if health.schema_version >= 0 else 'unknown (not ours)'}")
    print(f"  rows            {health.row_count:,}")
    print(f"  table size      {format_size(health.file_bytes)} (with indexes)")
    if health.schema_version > SCHEMA_VERSION:
        problems.append((
            f"database {mask_url(url)} has schema version {health.schema_version}, newer than the "
            f"{SCHEMA_VERSION} this prompt-improver knows",
            "upgrade prompt-improver (pip install -U prompt-improver, or git pull in a checkout)",
        ))
    elif health.schema_version < 0:
        problems.append((
            f"database {mask_url(url)} has a prompt_history table prompt-improver did not create",
            "point DATABASE_URL at another database",
        ))
    elif health.schema_version < SCHEMA_VERSION:
        print(f"  (schema version {SCHEMA_VERSION} is current; the database is upgraded on next use)")
