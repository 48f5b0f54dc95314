"""Retention on PostgreSQL: deletes in batches (short transactions, no long lock) and backups with pg_dump."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

from store.errors import RepositoryConnectionError
from store.postgres.connection import mask_url

DELETE_BATCH = 10_000
_DELETE = """
    DELETE FROM prompt_history WHERE id IN (
        SELECT id FROM prompt_history WHERE timestamp < %s ORDER BY timestamp LIMIT %s
    )
"""
BUMP_PRUNE_GENERATION = "UPDATE app_settings SET value = (value::bigint + 1)::text WHERE key = 'prune_generation'"


def delete_batch(conn: psycopg.Connection, before: datetime) -> int:
    """Delete up to DELETE_BATCH records older than `before` in the caller's transaction; return how many.

    A batch that deletes bumps `prune_generation` in the same transaction, so a reader that sees the
    rows gone also sees the new generation (the analytics read model then rebuilds).
    """
    deleted = conn.execute(_DELETE, (before, DELETE_BATCH)).rowcount
    if deleted:
        conn.execute(BUMP_PRUNE_GENERATION)
    return deleted


def pg_dump_path() -> str | None:
    """The `pg_dump` program on PATH, or in the newest /usr/lib/postgresql/*/bin, or None."""
    found = shutil.which("pg_dump")
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_dump"), key=lambda p: p.parts[-3].zfill(4))
    return str(candidates[-1]) if candidates else None


def dump(url: str, target: Path) -> None:
    """Write a pg_dump (custom format) of the database to the new file `target`, via `<target>.<pid>.tmp`.

    The password goes to pg_dump through its environment (PGPASSWORD), never on a command line others see.

    Raises:
        RepositoryConnectionError: `target` exists, pg_dump is missing, or it failed.
    """
    if target.exists():
        raise RepositoryConnectionError(
            f"backup target {target} already exists; choose a new file name (backups are never overwritten)"
        )
    program = pg_dump_path()
    if program is None:
        raise RepositoryConnectionError(
            "cannot back up a PostgreSQL history: pg_dump is not installed (apt-get install postgresql-client); "
            "install it, or prune without --backup"
        )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise RepositoryConnectionError(f"cannot create the directory {target.parent} ({error.strerror})") from None
    parts = urlsplit(url)
    env = dict(os.environ)
    if parts.password is not None:
        env["PGPASSWORD"] = parts.password
        host = parts.hostname or ""
        netloc = f"{parts.username or ''}@{host}" + (f":{parts.port}" if parts.port else "")
        url = urlunsplit(parts._replace(netloc=netloc))
    partial = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    result = subprocess.run(
        [program, "--format=custom", f"--file={partial}", f"--dbname={url}"],
        capture_output=True, text=True, env=env, check=False,
    )
    if result.returncode != 0:
        partial.unlink(missing_ok=True)
        reason = " ".join(result.stderr.split()) or f"exit status {result.returncode}"
        raise RepositoryConnectionError(
            f"pg_dump of {mask_url(url)} failed ({reason}); nothing was deleted (a pg_dump at least as new as "
            "the server is needed)"
        )
    partial.rename(target)
