"""Row mapping for PostgreSQL: the record's fields as parameters and back (native timestamptz and jsonb)."""

from __future__ import annotations

from psycopg.types.json import Jsonb

from store.postgres.fts import record_texts, tsvector
from store.record import BackendType, PromptHistory

RECORD_COLUMNS = (
    "uid", "timestamp", "original_idea", "context", "improved_prompt", "role", "directive", "framework",
    "guardrails", "backend", "confidence", "reasoning", "latency_ms", "model_version", "program_version",
    "quality", "experiment_id", "metric_version",
)
# The search words are the record's own texts, written with it (store/postgres/fts.py), never read back.
INSERT_COLUMNS = RECORD_COLUMNS + ("search_vector",)
SELECT_COLUMNS = ("id",) + RECORD_COLUMNS
SELECT_SQL = f"SELECT {', '.join(SELECT_COLUMNS)} FROM prompt_history"
INSERT_SQL = (
    f"INSERT INTO prompt_history ({', '.join(INSERT_COLUMNS)}) "
    f"VALUES ({', '.join('%s' for _ in INSERT_COLUMNS)}) ON CONFLICT (uid) DO NOTHING"
)


def record_to_row(record: PromptHistory) -> tuple:
    """The INSERT parameters for a record, in INSERT_COLUMNS order (the id is the database's)."""
    return (
        record.uid, record.timestamp, record.original_idea, record.context, record.improved_prompt, record.role,
        record.directive, record.framework, Jsonb(list(record.guardrails)), record.backend.value,
        record.confidence, record.reasoning, record.latency_ms, record.model_version, record.program_version,
        record.quality, record.experiment_id, record.metric_version, tsvector(record_texts(record)),
    )


def row_to_record(row: tuple) -> PromptHistory:
    """A PromptHistory from a row selected with SELECT_COLUMNS."""
    values = dict(zip(SELECT_COLUMNS, row))
    values["guardrails"] = tuple(values["guardrails"])
    values["backend"] = BackendType(values["backend"])
    return PromptHistory(**values)
