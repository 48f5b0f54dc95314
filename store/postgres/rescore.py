"""The PostgreSQL side of `rescore`: find records whose quality is stale, and store new scores in place.

The same contract as `store.sqlite.rescore`: records are read in id order after a cursor (a killed rescore
resumes by asking again), and every update bumps `prune_generation` in the same transaction, so the
analytics read model rebuilds on its next sync.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import psycopg

from store.postgres.retention import BUMP_PRUNE_GENERATION
from store.postgres.rows import SELECT_SQL, row_to_record
from store.query_rules import check_metric_version, checked_score
from store.record import PromptHistory

_STALE = "(metric_version IS NULL OR metric_version <> %s)"


def _where(metric_version: int, since: datetime | None) -> tuple[str, list]:
    check_metric_version(metric_version)
    if since is None:
        return _STALE, [metric_version]
    return f"{_STALE} AND timestamp >= %s", [metric_version, since]


def stale_records(
    conn: psycopg.Connection, metric_version: int, *, after_id: int, since: datetime | None, limit: int
) -> list[PromptHistory]:
    """Up to `limit` records with id > `after_id` not scored by `metric_version`, in id order."""
    where, params = _where(metric_version, since)
    rows = conn.execute(f"{SELECT_SQL} WHERE id > %s AND {where} ORDER BY id LIMIT %s", [after_id, *params, limit])
    return [row_to_record(row) for row in rows.fetchall()]


def count_stale(conn: psycopg.Connection, metric_version: int, since: datetime | None) -> int:
    """How many records are not scored by `metric_version` (from `since` on, when given)."""
    where, params = _where(metric_version, since)
    return conn.execute(f"SELECT count(*) FROM prompt_history WHERE {where}", params).fetchone()[0]


def store_scores(conn: psycopg.Connection, scores: Iterable[tuple[int, float, int]]) -> int:
    """Set (quality, metric_version) for each (id, quality, metric_version); return how many rows changed.

    The caller owns the transaction, so the scores and the generation bump commit together.
    """
    rows = [(quality, version, record_id) for record_id, quality, version in (checked_score(*s) for s in scores)]
    with conn.cursor() as cursor:
        cursor.executemany(
            "UPDATE prompt_history SET quality = %s, metric_version = %s WHERE id = %s", rows, returning=False
        )
        changed = max(cursor.rowcount, 0) if rows else 0
        if changed:
            cursor.execute(BUMP_PRUNE_GENERATION)
    return changed
