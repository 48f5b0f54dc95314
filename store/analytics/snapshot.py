"""A disposable copy of the read model on disk, so a fresh process skips the full load of a large history.

Why: filling the read model reads every page of the SQLite table (about 2 s per million rows here, the
text columns included, since SQLite stores rows whole), which alone would exceed the 2 s a fresh
`prompt-improver stats` or a restarted dashboard may take. The snapshot (`<db file>.analytics.duckdb`,
a few MB per million rows) is only a starting point: the read model validates it against the SQLite
file exactly as it validates itself (prune generation, the uid at the watermark, and the row count)
and appends the rows saved since, or rebuilds. Deleting it is always safe. It is never written for
small histories (a full load of those is fast) nor where the directory is not writable.

A snapshot is written to a temporary file and renamed into place, so concurrent processes (the
dashboard's worker, a CLI command) never see a half-written one; a process reads its snapshot in place
(attached read-only; an older one it holds open stays valid after a rename replaces it).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from store import leftovers
from store.analytics.history_file import SNAPSHOT_SUFFIX
from store.analytics.ranges import literal

logger = logging.getLogger(__name__)

FORMAT = 2  # 2: rows carry metric_version (schema migration 5) and experiment_id
SUFFIX = SNAPSHOT_SUFFIX
ALIAS = "snapshot"  # the snapshot being read
TABLE = "records"  # the table a snapshot holds
_OUT = "snapshot_out"  # the snapshot being written


@dataclass(frozen=True, slots=True)
class SnapshotState:
    """What the snapshot claims to mirror: the source's prune generation, max id, row count and the uid at it."""

    generation: str | None
    watermark: int
    rows: int
    uid: str | None


def snapshot_path(db_path: Path) -> Path:
    """Where the snapshot of `db_path` lives: beside it, `<name>.analytics.duckdb`."""
    return db_path.with_name(db_path.name + SUFFIX)


def attach(con: duckdb.DuckDBPyConnection, path: Path) -> SnapshotState | None:
    """Attach the snapshot read-only as `snapshot` (its rows in `snapshot.records`) and return what it
    claims; None (and nothing attached) when there is no usable snapshot. Removes the temporaries of
    snapshot writers that were killed (a process attaches once, at its start)."""
    leftovers.remove_stale(path)
    if not path.is_file():
        return None
    try:
        con.execute(f"ATTACH '{_quote(path)}' AS {ALIAS} (READ_ONLY)")
    except duckdb.Error as error:
        discard(path, error)
        return None
    try:
        meta = con.execute(f"SELECT format, generation, watermark, rows, uid FROM {ALIAS}.meta").fetchone()
        con.execute(f"SELECT id FROM {ALIAS}.records LIMIT 0").fetchall()
        if meta is not None and meta[0] == FORMAT:
            return SnapshotState(meta[1], int(meta[2]), int(meta[3]), meta[4])
        logger.info("ignoring the analytics snapshot %s: written in another format", path)
    except duckdb.Error as error:
        detach(con)
        discard(path, error)
        return None
    detach(con)
    return None


def is_damaged(con: duckdb.DuckDBPyConnection, table: str = TABLE) -> duckdb.Error | None:
    """Read every block of the attached snapshot's `table` (DuckDB verifies each block's checksum on read);
    the error when one cannot be read (a damaged or truncated file), else None."""
    try:
        con.execute(f"SELECT count(hash(COLUMNS(*))) FROM {ALIAS}.{table}").fetchall()
    except duckdb.Error as error:
        return error
    return None


def discard(path: Path, error: Exception) -> None:
    """Delete a snapshot that cannot be read: it is a cache, the history itself is intact, and the read
    model is rebuilt from the history (and a new snapshot written) instead."""
    logger.warning(
        "the analytics snapshot %s is damaged or unreadable (%s); it is only a cache of the history, so it was "
        "deleted and the analytics are rebuilt from the history database",
        path, str(error).splitlines()[0] if str(error) else type(error).__name__,
    )
    for leftover in (path, path.with_name(path.name + ".wal")):
        try:
            leftover.unlink(missing_ok=True)
        except OSError as unlink_error:
            logger.warning("could not delete the damaged analytics snapshot %s: %s", leftover, unlink_error)


def detach(con: duckdb.DuckDBPyConnection) -> None:
    """Detach the snapshot attached by `attach`."""
    con.execute(f"DETACH {ALIAS}")


def save(con: duckdb.DuckDBPyConnection, path: Path, source: str, state: SnapshotState) -> bool:
    """Write the rows of `source` (as the snapshot's `records`) and `state` to `path` atomically; False (and
    nothing left behind) when it cannot."""
    temporary = leftovers.temporary_path(path)
    try:
        temporary.unlink(missing_ok=True)
        con.execute(f"ATTACH '{_quote(temporary)}' AS {_OUT}")
        try:
            con.execute(f"CREATE TABLE {_OUT}.{TABLE} AS SELECT * FROM {source}")
            fmt, generation, watermark, rows, uid = map(
                literal, (FORMAT, state.generation, state.watermark, state.rows, state.uid)
            )
            con.execute(
                f"CREATE TABLE {_OUT}.meta AS SELECT {fmt} AS format, {generation}::VARCHAR AS generation, "
                f"{watermark}::BIGINT AS watermark, {rows}::BIGINT AS rows, {uid}::VARCHAR AS uid"
            )
        finally:
            con.execute(f"DETACH {_OUT}")
        os.replace(temporary, path)
        return True
    except (duckdb.Error, OSError) as error:
        logger.info("not writing the analytics snapshot %s: %s", path, str(error).splitlines()[0])
        for leftover in (temporary, temporary.with_name(temporary.name + ".wal")):
            try:
                leftover.unlink(missing_ok=True)
            except OSError:
                pass
        return False


def _quote(path: Path) -> str:
    return str(path.absolute()).replace("'", "''")
