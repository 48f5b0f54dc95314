"""Bulk writes for PostgreSQL: a batch of records through COPY into a temporary table, then one INSERT.

COPY is PostgreSQL's fast path for many rows; the INSERT … SELECT from the temporary table keeps the
contract of `save_many` (a uid already stored, or repeated in the batch, is stored once; ids follow the
input order) that a plain COPY into the table could not.
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg

from store.postgres.rows import INSERT_COLUMNS, record_to_row
from store.record import PromptHistory

_COLUMNS = ", ".join(INSERT_COLUMNS)
_INCOMING = """
    CREATE TEMP TABLE IF NOT EXISTS incoming_history (
        ord bigint, uid text, timestamp timestamptz, original_idea text, context text, improved_prompt text,
        role text, directive text, framework text, guardrails jsonb, backend text, confidence double precision,
        reasoning text, latency_ms double precision, model_version text, program_version text,
        quality double precision, experiment_id text, metric_version integer, search_vector tsvector
    ) ON COMMIT DELETE ROWS
"""
_COPY = f"COPY incoming_history (ord, {_COLUMNS}) FROM STDIN"
_MOVE = (
    f"INSERT INTO prompt_history ({_COLUMNS}) SELECT {_COLUMNS} FROM incoming_history ORDER BY ord "
    "ON CONFLICT (uid) DO NOTHING"
)


def copy_batch(conn: psycopg.Connection, records: Sequence[PromptHistory]) -> int:
    """Store `records` inside the caller's transaction; return how many were new."""
    conn.execute(_INCOMING)
    with conn.cursor() as cursor:
        with cursor.copy(_COPY) as copy:
            for index, record in enumerate(records):
                copy.write_row((index, *record_to_row(record)))
        cursor.execute(_MOVE)
        return cursor.rowcount
