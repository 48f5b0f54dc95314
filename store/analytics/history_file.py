"""What the analytics say when the history file cannot be read: the cause and the fix, in the store's words.

The analytics never open the file through `sqlite3` (see `store/analytics/engine.py`), so they cannot reuse
`store.sqlite.connection.describe`; this module gives the same kind of message from what DuckDB's scanner
reports, and checks what can be checked without opening the file at all (a directory, an unreadable
file, a header that is not SQLite's), and which paths an export must never write. No sqlite3.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from store.errors import RepositoryConnectionError
from store.sqlite.schema import SCHEMA_VERSION

SQLITE_HEADER = b"SQLite format 3\x00"
SNAPSHOT_SUFFIX = ".analytics.duckdb"  # the read model's snapshot beside the history file
_DOCTOR = "`prompt-improver doctor` checks the file"


def check_history_file(db_path: Path) -> None:
    """Refuse, before DuckDB does with a vaguer message, an existing path that cannot be a history.

    Raises:
        RepositoryConnectionError: the path is a directory or another non-regular file (a device, a pipe),
            is not readable by this user, or does not start with SQLite's header (an empty file is fine:
            SQLite treats it as an empty database).
    """
    path = Path(db_path)
    if path.is_dir():
        raise RepositoryConnectionError(
            f"{path} is a directory, not a database file; point SQLITE_DB_PATH (or --db) at a file such as "
            f"{path / 'prompt_history.db'}"
        )
    if not path.is_file():
        raise RepositoryConnectionError(
            f"{path} is not a regular file (a device, a pipe or a socket), so it cannot hold a database; point "
            "SQLITE_DB_PATH (or --db) at a file such as data/prompt_history.db"
        )
    try:
        with path.open("rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except PermissionError:
        raise RepositoryConnectionError(
            f"cannot read {path}: the file is not readable by this user; make it readable "
            f"(e.g. chmod u+rw {path})"
        ) from None
    except OSError as error:
        raise RepositoryConnectionError(f"cannot read {path} ({error.strerror}); {_DOCTOR}") from None
    if header and header != SQLITE_HEADER:
        raise not_a_database(path)


def not_a_database(path: Path) -> RepositoryConnectionError:
    """The error for a file that is not an SQLite database (the store's own wording)."""
    return RepositoryConnectionError(
        f"{path} is not an SQLite database (its header is not 'SQLite format 3'); move the file away or "
        "point SQLITE_DB_PATH (or --db) at another file"
    )


def check_schema_version(path: Path, version: int, has_history_table: bool) -> None:
    """Refuse a file the analytics would misread: a newer schema, or a history table never migrated.

    Raises:
        RepositoryConnectionError: `version` is above `SCHEMA_VERSION` (the message is the store's), or
            below it while a `prompt_history` table exists (0: the original design's layout, or a foreign
            one; otherwise an earlier release's file, not yet migrated).
    """
    if version > SCHEMA_VERSION:
        raise RepositoryConnectionError(
            f"{path} has schema version {version}, newer than the {SCHEMA_VERSION} this version of "
            "prompt-improver knows; upgrade prompt-improver to open it (the file was left untouched)"
        )
    if version == 0 and has_history_table:
        raise RepositoryConnectionError(
            f"{path} has a prompt_history table but schema version 0: it has not been upgraded to this "
            f"version's layout (the analytics never write to the file); upgrade it in place by running "
            f"`prompt-improver history --limit 1 --db {path}` once (or starting the dashboard on it), which "
            "also names any row or layout it cannot convert"
        )
    if version < SCHEMA_VERSION and has_history_table:
        # An earlier release's file (columns the queries name are missing until its migrations run).
        raise RepositoryConnectionError(
            f"{path} has schema version {version}, older than the {SCHEMA_VERSION} this version of prompt-improver "
            f"reads (the analytics never write to the file); upgrade it in place by running "
            f"`prompt-improver history --limit 1 --db {path}` once (or starting the dashboard on it)"
        )


def connection_error(db_path: Path, error: Exception) -> RepositoryConnectionError:
    """The store error for a DuckDB error raised while reading `db_path`, naming the cause and the fix."""
    path = Path(db_path)
    text = str(error)
    first_line = text.splitlines()[0] if text else type(error).__name__
    lowered = text.lower()
    if "file is not a database" in lowered:
        return not_a_database(path)
    if "readonly" in lowered or "read-only" in lowered:
        return RepositoryConnectionError(
            f"cannot read {path} for analytics ({_sqlite_words(first_line)}): SQLite must write the -wal and "
            f"-shm files beside a WAL database even to read it, and {_unwritable(path)} is not writable by "
            f"this user; make it writable (e.g. chmod u+w {_unwritable(path)}), or copy the file to a "
            "directory you can write"
        )
    if "database is locked" in lowered or "database is busy" in lowered:
        return RepositoryConnectionError(
            f"{path} stayed locked by another process longer than SQLite waits ({_sqlite_words(first_line)}): a "
            "writer holds it exclusively (a prune, a VACUUM, a long import, or a journal_mode=delete database being "
            "written); retry when it has finished"
        )
    if "malformed" in lowered or "corrupt" in lowered:
        return RepositoryConnectionError(
            f"{path} is damaged ({_sqlite_words(first_line)}); restore it from a backup, or try "
            f"`sqlite3 {path} .recover`"
        )
    if "unable to open" in lowered and path.exists() and not os.access(path, os.R_OK):
        return RepositoryConnectionError(
            f"cannot read {path}: the file is not readable by this user; make it readable (e.g. chmod u+rw {path})"
        )
    return RepositoryConnectionError(
        f"cannot read the history database {path} for analytics: {first_line} "
        f"(check that the path is a prompt-improver SQLite database; {_DOCTOR})"
    )


def _unwritable(path: Path) -> Path:
    # The file itself when it is read-only, else the directory that cannot take the -wal/-shm files.
    return path if path.exists() and not os.access(path, os.W_OK) else path.absolute().parent


def _sqlite_words(line: str) -> str:
    # DuckDB prefixes SQLite's own words with the statement it failed to prepare; keep SQLite's words.
    return line.rsplit("): ", 1)[-1].rsplit('": ', 1)[-1]


def is_history_file(path: Path, db_path: Path, also: Iterable[Path] = ()) -> bool:
    """Whether `path` is the database `db_path` or a file kept beside it (its -wal, -shm or -journal, or the
    analytics snapshot), or one of `also` (the outbox's files), by name, through a symlink, or as a hard
    link: an export must never write there."""
    path, db_path = Path(path), Path(db_path).absolute()  # absolute: `.` has no name to add suffixes to
    protected = [db_path.with_name(db_path.name + suffix) for suffix in ("", "-wal", "-shm", "-journal", SNAPSHOT_SUFFIX)]
    protected += [Path(other).absolute() for other in also]
    target = path.resolve()
    for candidate in protected:
        if candidate.resolve() == target:
            return True
        try:
            if path.exists() and candidate.exists() and path.samefile(candidate):
                return True
        except OSError:
            continue
    return False
