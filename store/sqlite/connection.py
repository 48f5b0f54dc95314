"""What the SQLite adapter and the migration runner share: connections, error translation, row mapping.

Connections are opened with `connect` (the repository keeps one per thread); sqlite3's errors are turned into
the store's own errors by `translate_errors`, whose messages name the file and the fix.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from store.errors import RepositoryConnectionError, RepositoryConstraintError, RepositoryError
from store.record import BackendType, PromptHistory
from store.timestamps import from_iso, to_iso

INSERT_COLUMNS = (
    "uid", "timestamp", "original_idea", "context", "improved_prompt", "role", "directive", "framework",
    "guardrails", "backend", "confidence", "reasoning", "latency_ms", "model_version", "program_version",
    "quality", "experiment_id", "metric_version",
)
SELECT_COLUMNS = ("id",) + INSERT_COLUMNS
SELECT_SQL = f"SELECT {', '.join(SELECT_COLUMNS)} FROM prompt_history"
INSERT_SQL = (
    f"INSERT INTO prompt_history ({', '.join(INSERT_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in INSERT_COLUMNS)})"
)

# Primary result codes (the low byte of sqlite3.Error.sqlite_errorcode).
_SQLITE_PERM, _SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_READONLY = 3, 5, 6, 8
_SQLITE_CORRUPT, _SQLITE_CANTOPEN, _SQLITE_NOTADB = 11, 14, 26
_GENERIC_HINT = "check that the file and its directory are writable by this user (a read-only mount?)"


def connect(
    db_path: Path, busy_timeout_ms: int, *, create: bool = False, any_thread: bool = False
) -> sqlite3.Connection:
    """Open a connection in autocommit mode (transactions are explicit `BEGIN IMMEDIATE`).

    With `create=False` a missing file is an error instead of a new empty database. With `any_thread`,
    another thread than the opener may close it (see store/sqlite/thread_connections.py).
    """
    mode = "rwc" if create else "rw"
    conn = sqlite3.connect(
        f"{Path(db_path).absolute().as_uri()}?mode={mode}",
        uri=True,
        timeout=busy_timeout_ms / 1000,
        isolation_level=None,
        check_same_thread=not any_thread,
    )
    # Text another tool wrote as invalid UTF-8 reads with U+FFFD in place of the bad bytes instead of failing
    # the whole listing; `doctor` names such records. Decoding in Python costs no more than sqlite3's own.
    conn.text_factory = _decode_text
    try:  # `timeout=` above already set SQLite's busy timeout
        conn.execute("PRAGMA synchronous = NORMAL")
    except BaseException:
        conn.close()
        raise
    return conn


def _decode_text(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")


def invalid_text_ids(conn: sqlite3.Connection) -> list[int]:
    """Ids (ascending) of the records holding text that is not valid UTF-8 (bytes another tool wrote).

    One pass over the table: the text columns of a row are joined (NUL-separated, so a truncated sequence
    cannot borrow the next column's bytes) and checked in Python, ASCII rows at C speed.
    """
    columns = [row[1] for row in conn.execute("SELECT * FROM pragma_table_info('prompt_history')") if row[2].upper() == "TEXT"]
    if not columns:
        return []
    conn.create_function("invalid_utf8", 1, _invalid_utf8, deterministic=True)
    quoted = ['"' + name.replace('"', '""') + '"' for name in columns]
    joined = " || x'00' || ".join(f"coalesce(CAST({name} AS BLOB), x'')" for name in quoted)
    return [row[0] for row in conn.execute(f"SELECT id FROM prompt_history WHERE invalid_utf8(CAST({joined} AS BLOB)) ORDER BY id")]


def _invalid_utf8(raw: bytes) -> bool:
    if raw.isascii():
        return False
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def check_path(db_path: Path) -> None:
    """Refuse, before SQLite does with a vaguer message, a path that cannot be a database file.

    Raises:
        RepositoryConnectionError: the path is a directory or another non-regular file (a device such as
            /dev/null, a pipe, a socket), or a parent is a regular file.
    """
    path = Path(db_path)
    if path.is_dir():
        raise RepositoryConnectionError(
            f"{path} is a directory, not a database file; point SQLITE_DB_PATH at a file such as "
            f"{path / 'prompt_history.db'}"
        )
    if path.exists() and not path.is_file():
        raise not_a_regular_file(path)
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise RepositoryConnectionError(
                    f"cannot create {path}: {parent} is a file, not a directory; "
                    "point SQLITE_DB_PATH at a path inside a directory"
                )
            break


def not_a_regular_file(path: Path) -> RepositoryConnectionError:
    """The error for a path that exists but is a device, a pipe or a socket: SQLite cannot keep a database there."""
    return RepositoryConnectionError(
        f"{path} is not a regular file (a device, a pipe or a socket), so it cannot hold a database; point "
        "SQLITE_DB_PATH (or --db) at a file such as data/prompt_history.db"
    )


def _permission_hint(path: Path) -> str | None:
    """Which permission stops writing `path`, and the fix; None when none is found."""
    directory = path.parent
    if path.exists() and not os.access(path, os.R_OK):
        return f"the file is not readable by this user: make it readable and writable (e.g. chmod u+rw {path})"
    if path.exists() and not os.access(path, os.W_OK):
        return f"the file is not writable by this user: make it and its -wal/-shm files writable (e.g. chmod u+w {path}*)"
    if directory.exists() and not os.access(directory, os.W_OK | os.X_OK):
        return (
            f"the directory {directory} is not writable by this user (SQLite also writes the -wal and "
            f"-shm files beside the database): make it writable (e.g. chmod u+w {directory})"
        )
    return None


def describe(error: sqlite3.Error, db_path: Path) -> RepositoryError:
    """The store error for a sqlite3 error on `db_path`, with a message naming the file and the fix."""
    path = Path(db_path)
    code = (getattr(error, "sqlite_errorcode", None) or 0) & 0xFF
    text = str(error)
    if isinstance(error, sqlite3.IntegrityError):
        return RepositoryConstraintError(f"a write to {path} violated a constraint: {text}")
    if code == _SQLITE_NOTADB or "file is not a database" in text:
        return RepositoryConnectionError(
            f"{path} is not an SQLite database (its header is not 'SQLite format 3'); move the file "
            "away or point SQLITE_DB_PATH at another file"
        )
    if code == _SQLITE_CORRUPT or "malformed" in text:
        return RepositoryConnectionError(
            f"{path} is damaged ({text}); restore it from a backup, or try `sqlite3 {path} .recover`"
        )
    if code == _SQLITE_CANTOPEN or "unable to open database file" in text:
        check_path(path)  # a directory or a file-as-parent gets its own message
        hint = _permission_hint(path)
        if hint is not None:
            return RepositoryConnectionError(f"cannot open or create {path} ({text}); {hint}")
        if not path.exists():
            return RepositoryConnectionError(
                f"cannot open {path}: the file does not exist; run the migrations to create it "
                "(store.sqlite.migrations.migrate; the dashboard and every prompt-improver command run them at start)"
            )
        return RepositoryConnectionError(f"cannot open {path} ({text}); {_GENERIC_HINT}")
    if code in (_SQLITE_READONLY, _SQLITE_PERM) or "readonly" in text:
        hint = _permission_hint(path) or _GENERIC_HINT
        return RepositoryConnectionError(f"cannot write to {path} ({text}); {hint}")
    if code in (_SQLITE_BUSY, _SQLITE_LOCKED):
        return RepositoryError(
            f"{path} stayed locked by another writer longer than the busy timeout ({text}); retry, or "
            "raise SQLITE_BUSY_TIMEOUT_MS"
        )
    return RepositoryError(f"SQLite failed on {path}: {text}")


@contextmanager
def translate_errors(db_path: Path) -> Iterator[None]:
    """Re-raise sqlite3 errors (and the OS's, from the file beside it) as the store's errors, keeping the
    original as `__cause__`: callers past the port catch only `RepositoryError`."""
    try:
        yield
    except sqlite3.Error as error:
        raise describe(error, db_path) from error
    except OSError as error:
        raise RepositoryConnectionError(f"cannot use {db_path} ({error.strerror or error}); {_GENERIC_HINT}") from error
    except UnicodeEncodeError as error:
        # A lone surrogate (e.g. from a badly decoded file) cannot be encoded as UTF-8 for SQLite.
        raise RepositoryConstraintError(
            f"a value for {db_path} is not valid unicode (a lone surrogate at index {error.start}); "
            "decode the text properly before saving"
        ) from error


def split_statements(script: str) -> list[str]:
    """Split an SQL script into complete statements (sqlite3's own tokenizer decides where one ends)."""
    statements: list[str] = []
    start = 0
    for index, char in enumerate(script):
        if char == ";" and sqlite3.complete_statement(script[start : index + 1]):
            statements.append(script[start : index + 1].strip())
            start = index + 1
    rest = script[start:].strip()
    if rest and not all(line.strip().startswith("--") for line in rest.splitlines() if line.strip()):
        statements.append(rest)
    return statements


def record_to_row(record: PromptHistory) -> tuple:
    """The INSERT parameters for a record, in INSERT_COLUMNS order (the id is the database's)."""
    return (
        record.uid,
        to_iso(record.timestamp),
        record.original_idea,
        record.context,
        record.improved_prompt,
        record.role,
        record.directive,
        record.framework,
        json.dumps(list(record.guardrails), ensure_ascii=False),
        record.backend.value,
        record.confidence,
        record.reasoning,
        record.latency_ms,
        record.model_version,
        record.program_version,
        record.quality,
        record.experiment_id,
        record.metric_version,
    )


def row_to_record(row: tuple) -> PromptHistory:
    """A PromptHistory from a row selected with SELECT_COLUMNS."""
    (
        record_id, uid, timestamp, idea, context, prompt, role, directive, framework, guardrails,
        backend, confidence, reasoning, latency_ms, model_version, program_version, quality, experiment_id,
        metric_version,
    ) = row
    return PromptHistory(
        id=record_id,
        uid=uid,
        timestamp=from_iso(timestamp),
        original_idea=idea,
        context=context,
        improved_prompt=prompt,
        role=role,
        directive=directive,
        framework=framework,
        guardrails=tuple(json.loads(guardrails)),
        backend=BackendType(backend),
        confidence=confidence,
        reasoning=reasoning,
        latency_ms=latency_ms,
        model_version=model_version,
        program_version=program_version,
        quality=quality,
        experiment_id=experiment_id,
        metric_version=metric_version,
    )
