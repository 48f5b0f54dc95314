"""The SQLite side of `rescore`: find records whose quality is stale, and store new scores in place.

Records are read in id order after a cursor, so a rescore killed midway resumes by asking again: the
records it already rewrote carry the current metric version and are no longer selected. Rewriting a
stored quality changes rows below the analytics read model's watermark, which it otherwise assumes only
deletions do, so every update bumps `prune_generation` in the same transaction (the read model then
rebuilds on its next sync).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import datetime

from store.query_rules import check_metric_version, checked_score
from store.record import PromptHistory
from store.sqlite.connection import SELECT_SQL, row_to_record
from store.sqlite.retention import BUMP_PRUNE_GENERATION
from store.timestamps import to_iso

_STALE = "(metric_version IS NULL OR metric_version <> ?)"


def _where(metric_version: int, since: datetime | None) -> tuple[str, list]:
    check_metric_version(metric_version)
    if since is None:
        return _STALE, [metric_version]
    return f"{_STALE} AND timestamp >= ?", [metric_version, to_iso(since)]


def stale_records(
    conn: sqlite3.Connection, metric_version: int, *, after_id: int, since: datetime | None, limit: int
) -> list[PromptHistory]:
    """Up to `limit` records with id > `after_id` not scored by `metric_version`, in id order."""
    where, params = _where(metric_version, since)
    rows = conn.execute(f"{SELECT_SQL} WHERE id > ? AND {where} ORDER BY id LIMIT ?", [after_id, *params, limit])
    return [row_to_record(row) for row in rows.fetchall()]


def count_stale(conn: sqlite3.Connection, metric_version: int, since: datetime | None) -> int:
    """How many records are not scored by `metric_version` (from `since` on, when given)."""
    where, params = _where(metric_version, since)
    return conn.execute(f"SELECT count(*) FROM prompt_history WHERE {where}", params).fetchone()[0]


def store_scores(conn: sqlite3.Connection, scores: Iterable[tuple[int, float, int]]) -> int:
    """Set (quality, metric_version) for each (id, quality, metric_version); return how many rows changed.

    The caller owns the transaction, so the scores and the generation bump commit together.
    """
    rows = [(quality, version, record_id) for record_id, quality, version in (checked_score(*s) for s in scores)]
    # rowcount sums sqlite3_changes(): the rows updated, not the search index's trigger writes (which
    # total_changes counts too).
    changed = conn.executemany("UPDATE prompt_history SET quality = ?, metric_version = ? WHERE id = ?", rows).rowcount
    if changed:
        conn.execute(BUMP_PRUNE_GENERATION)
    return changed
