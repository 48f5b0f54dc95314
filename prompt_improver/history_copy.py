"""Copy a history between engines (SQLite file ↔ PostgreSQL), in batches, matched by `uid`.

Records are read in id order with a keyset (`id > last`), so each batch costs the same however far the
copy has got; the destination's `save_many` skips uids it already holds, which makes a rerun after an
interruption add only what is missing. Ids are the destination's own; timestamps and every field are kept.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass

from store.errors import RepositoryError
from store.record import PromptHistory


@dataclass(frozen=True, slots=True)
class CopyReport:
    """What a copy did: records in the source, newly stored, already there; the destination's count after."""

    source_rows: int
    copied: int
    already_there: int
    destination_rows: int


def _is_postgres(repo: object) -> bool:
    module = sys.modules.get("store.postgres.repository")
    return module is not None and isinstance(repo, module.PostgresPromptRepository)


def read_batches(repo, batch_size: int) -> Iterator[list[PromptHistory]]:
    """Every record of `repo` (SQLite or PostgreSQL) in id order, `batch_size` at a time."""
    last = 0
    while True:
        if _is_postgres(repo):
            from store.postgres.rows import SELECT_SQL, row_to_record

            with repo.transaction() as conn:
                rows = conn.execute(SELECT_SQL + " WHERE id > %s ORDER BY id LIMIT %s", (last, batch_size)).fetchall()
        else:
            from store.sqlite.connection import SELECT_SQL, connect, row_to_record, translate_errors

            with translate_errors(repo.db_path), closing(connect(repo.db_path, repo.busy_timeout_ms)) as conn:
                rows = conn.execute(SELECT_SQL + " WHERE id > ? ORDER BY id LIMIT ?", (last, batch_size)).fetchall()
        if not rows:
            return
        last = rows[-1][0]
        yield [row_to_record(row) for row in rows]


def copy_history(source, destination, *, batch_size: int = 5_000, progress=None) -> CopyReport:
    """Copy every record of `source` into `destination`; `progress(done)` is called after each batch.

    Raises:
        RepositoryError: from either store, or when the destination ends with fewer records than the
            source holds (the counts are verified at the end).
    """
    source_rows = source.health().row_count
    copied = seen = 0
    for batch in read_batches(source, batch_size):
        copied += destination.save_many(batch, batch_size=batch_size)
        seen += len(batch)
        if progress is not None:
            progress(seen)
    destination_rows = destination.health().row_count
    if seen != source_rows and source.health().row_count == source_rows:
        raise RepositoryError(
            f"read {seen:,} records from {source.db_path} but it holds {source_rows:,}; run the copy again "
            "(it adds only what is missing)"
        )
    if destination_rows < seen:
        raise RepositoryError(
            f"{destination.db_path} holds {destination_rows:,} records after the copy, fewer than the {seen:,} "
            "read; run the copy again (it adds only what is missing)"
        )
    return CopyReport(seen, copied, seen - copied, destination_rows)
