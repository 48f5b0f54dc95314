"""Upgrade of a database made with the original design's schema (run inside migration 1's transaction).

The original `prompt_history` table had `DATETIME DEFAULT CURRENT_TIMESTAMP` timestamps (UTC text
`YYYY-MM-DD HH:MM:SS`, or naive Python isoformat), newline-joined guardrails, `zero_shot`-style backends,
nullable text and unchecked numbers, plus a `schema_metadata` table. Every row is kept with its id:

- timestamps become the store's fixed ISO UTC text (naive values are read as UTC);
- guardrails become a JSON array (split on newlines; empty lines dropped; a trailing CR removed);
- backends become `zero-shot` / `few-shot`; NULL text becomes '' (reasoning stays NULL);
- each row gets a fresh uid; confidence outside [0, 1] and negative latency become NULL, with a
  warning counting them;
- the AUTOINCREMENT sequence carries over, so new rows get ids above every old one.

A row that cannot be represented (no parseable timestamp, an unknown backend, an idea shorter than the
record allows...) stops the upgrade: the transaction rolls back, the file stays as it was, and the error
lists the row ids and the fix. `schema_metadata` is dropped: `PRAGMA user_version` replaces it.
"""

from __future__ import annotations

import logging
import math
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

from store.errors import InvalidRecord, RepositoryConnectionError
from store.record import PromptHistory
from store.sqlite.connection import INSERT_COLUMNS, record_to_row, split_statements

logger = logging.getLogger(__name__)

LEGACY_TABLE = "prompt_history_legacy"
_LEGACY_COLUMNS = (
    "id", "timestamp", "original_idea", "context", "improved_prompt", "role", "directive", "framework",
    "guardrails", "backend", "confidence", "reasoning", "latency_ms", "model_version",
)
# The upgrade runs inside migration 1, before later migrations add columns (metric_version in 5): it
# writes migration 1's columns only. Legacy rows have no quality, so nothing a later column holds is lost.
_V1_COLUMNS = INSERT_COLUMNS[: INSERT_COLUMNS.index("experiment_id") + 1]
_INSERT_WITH_ID = (
    f"INSERT INTO prompt_history (id, {', '.join(_V1_COLUMNS)}) "
    f"VALUES (?, {', '.join('?' for _ in _V1_COLUMNS)})"
)
_MAX_LISTED_PROBLEMS = 5


_REQUIRED = ("id", "timestamp", "original_idea", "improved_prompt", "backend")


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}


def is_legacy_layout(conn: sqlite3.Connection) -> bool:
    """True when the database has the original design's `prompt_history` table (no `uid` column)."""
    columns = _columns(conn, "prompt_history")
    return bool(columns) and "uid" not in columns


def _legacy_select(conn: sqlite3.Connection, path: Path) -> str:
    """The SELECT reading every legacy column; optional columns an older variant lacks read as NULL."""
    present = _columns(conn, LEGACY_TABLE)
    missing = [name for name in _REQUIRED if name not in present]
    if missing:
        raise RepositoryConnectionError(
            f"{path} has a prompt_history table without a uid column (the original design's) but it lacks "
            f"{', '.join(missing)}; this is not a layout prompt-improver knows, so the file was left "
            "unchanged; point SQLITE_DB_PATH at another file"
        )
    selected = [name if name in present else f"NULL AS {name}" for name in _LEGACY_COLUMNS]
    return f"SELECT {', '.join(selected)} FROM {LEGACY_TABLE} ORDER BY id"


def _timestamp(value: object) -> datetime:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:  # a number can only be Unix seconds here
            return datetime.fromtimestamp(value, timezone.utc)
        except (OverflowError, OSError, ValueError):
            raise InvalidRecord(f"timestamp {value!r} is not a date and time") from None
    if not isinstance(value, str):
        raise InvalidRecord(f"timestamp {value!r} is not a date and time")
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidRecord(f"timestamp {value!r} is not an ISO-8601 date and time") from None
    if moment.tzinfo is None:  # CURRENT_TIMESTAMP is UTC; naive isoformat is read as UTC too
        moment = moment.replace(tzinfo=timezone.utc)
    return moment


def _guardrails(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, str):
        raise InvalidRecord(f"guardrails {value!r} is not text")
    return tuple(line.removesuffix("\r") for line in value.split("\n") if line.strip())


def _number(value: object, low: float, high: float) -> float | None:
    """The value if it is a number in [low, high], else None (the caller counts the Nones)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        return None
    return float(value) if low <= value <= high else None


def _text(value: object) -> object:
    return "" if value is None else value


def _convert(row: tuple) -> tuple[PromptHistory, int, bool, bool]:
    values = dict(zip(_LEGACY_COLUMNS, row))
    confidence = _number(values["confidence"], 0.0, 1.0)
    latency = _number(values["latency_ms"], 0.0, math.inf)
    record = PromptHistory(
        timestamp=_timestamp(values["timestamp"]),
        original_idea=values["original_idea"],
        context=_text(values["context"]),
        improved_prompt=values["improved_prompt"],
        role=_text(values["role"]),
        directive=_text(values["directive"]),
        framework=_text(values["framework"]),
        guardrails=_guardrails(values["guardrails"]),
        backend=values["backend"],  # parsed leniently: zero_shot, ZERO-SHOT, few-shot...
        confidence=confidence,
        reasoning=values["reasoning"],
        latency_ms=latency,
        model_version=_text(values["model_version"]),
    )
    return (
        record,
        values["id"],
        confidence is None and values["confidence"] is not None,
        latency is None and values["latency_ms"] is not None,
    )


def upgrade_legacy_table(conn: sqlite3.Connection, path: Path, migration_sql: str) -> None:
    """Replace the legacy table with migration 1's, copying every row. The caller owns the transaction.

    Raises:
        RepositoryConnectionError: some rows cannot be represented in the new schema (listed by id).
    """
    conn.execute(f"ALTER TABLE prompt_history RENAME TO {LEGACY_TABLE}")
    for statement in split_statements(migration_sql):
        conn.execute(statement)
    problems: list[str] = []
    nulled_confidence: list[int] = []
    nulled_latency: list[int] = []
    copied = 0
    rows = conn.execute(_legacy_select(conn, path))
    while batch := rows.fetchmany(2_000):
        converted = []
        for row in batch:
            try:
                record, row_id, bad_confidence, bad_latency = _convert(row)
            except InvalidRecord as error:
                problems.append(f"id {row[0]}: {error}")
                continue
            if bad_confidence:
                nulled_confidence.append(row_id)
            if bad_latency:
                nulled_latency.append(row_id)
            converted.append((row_id, *record_to_row(record)[: len(_V1_COLUMNS)]))
        if not problems:
            conn.executemany(_INSERT_WITH_ID, converted)
            copied += len(converted)
    if problems:
        listed = "; ".join(problems[:_MAX_LISTED_PROBLEMS])
        more = f" (and {len(problems) - _MAX_LISTED_PROBLEMS} more)" if len(problems) > _MAX_LISTED_PROBLEMS else ""
        raise RepositoryConnectionError(
            f"{path} uses the original design's schema, and {len(problems)} of its rows cannot be upgraded: "
            f"{listed}{more}. The file was left unchanged; correct or delete those rows with the sqlite3 "
            f"shell (e.g. sqlite3 {path} \"UPDATE prompt_history SET ... WHERE id = ...\") and run again"
        )
    # Keep the AUTOINCREMENT high-water mark, so an id deleted before the upgrade is never reused.
    legacy_seq = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = ?", (LEGACY_TABLE,)).fetchone()
    if legacy_seq is not None:
        updated = conn.execute(
            "UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = 'prompt_history'", (legacy_seq[0],)
        ).rowcount
        if not updated:
            conn.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('prompt_history', ?)", (legacy_seq[0],))
    conn.execute(f"DROP TABLE {LEGACY_TABLE}")
    conn.execute("DROP TABLE IF EXISTS schema_metadata")
    if nulled_confidence or nulled_latency:
        logger.warning(
            "upgraded %s: set %d confidence values outside [0, 1] (ids %s) and %d negative or non-numeric "
            "latencies (ids %s) to NULL",
            path, len(nulled_confidence), nulled_confidence[:20], len(nulled_latency), nulled_latency[:20],
        )
    logger.info("upgraded %s from the original design's schema: %d rows copied", path, copied)
