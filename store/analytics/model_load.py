"""How the analytics read model's rows are read from the SQLite file: the table's names and layout, the
full load and the append above a watermark. Imports DuckDB (the worker's side only).

The full load is one single-threaded scan (`sqlite_disable_multithreaded_scans`: one SQLite statement,
one snapshot) that SQLite answers from the covering index `idx_prompt_history_analytics` (migration 4).
It runs with DuckDB limited to one thread: with the default two, DuckDB's second thread spent as much CPU
as the scan itself (2.4-2.5 CPU-s instead of 1.0-1.1 at 1M rows, fresh processes, alternating), which on a
busy machine doubled the first open's wall time.
"""

from __future__ import annotations

from types import MappingProxyType

import duckdb

from store.analytics.ranges import literal
from store.analytics.utf8_text import safe

ALIAS = "history"  # the name the SQLite file is attached under
TABLE = "records"  # what queries read: the rows in scope (see `set_scope`) of `ALL`
ALL = "records_all"  # every row: a view over the rows restored from a snapshot and the local rows
LOCAL = "records_local"  # the rows this process loaded or appended (in memory)
EMPTY_LOCAL = (
    f"CREATE OR REPLACE TABLE {LOCAL} (id BIGINT, ts TIMESTAMP, backend VARCHAR, model VARCHAR, "
    "framework VARCHAR, role VARCHAR, confidence DOUBLE, quality DOUBLE, latency_ms DOUBLE, metric_version INTEGER, "
    "experiment_id VARCHAR)"
)
# Experiment runs (records with an experiment id) are compared on the Compare page; the History and
# Analytics views leave them out unless asked, so a batch of test runs does not skew a user's own numbers.
SCOPES = MappingProxyType({
    False: f"CREATE OR REPLACE VIEW {TABLE} AS SELECT * FROM {ALL} WHERE experiment_id IS NULL",
    True: f"CREATE OR REPLACE VIEW {TABLE} AS SELECT * FROM {ALL}",
})
# The stored text always reads `2026-01-03T10:15:42.123456+00:00`; the first 26 characters are the UTC
# wall time, kept as a naive TIMESTAMP (UTC by convention) so bucketing needs no time-zone support.
_FULL_LOAD = f"""
    CREATE OR REPLACE TABLE {TABLE}_loading AS
    SELECT id, CAST(substr(timestamp, 1, 26) AS TIMESTAMP) AS ts, {safe("backend")} AS backend,
           {safe("model_version")} AS model, {safe("framework")} AS framework, {safe("role")} AS role,
           confidence, quality, latency_ms, CAST(metric_version AS INTEGER) AS metric_version,
           {safe("experiment_id")} AS experiment_id
    FROM {ALIAS}.prompt_history
"""
# sqlite_query() returns text; quote() renders a REAL with all 17+ significant digits, so the cast back
# to DOUBLE is exact and an appended row equals the same row read by a full load.
_APPEND_SQLITE = (
    "SELECT id, timestamp, backend, model_version, framework, role, "
    "CASE WHEN confidence IS NULL THEN NULL ELSE quote(confidence) END, "
    "CASE WHEN quality IS NULL THEN NULL ELSE quote(quality) END, "
    "CASE WHEN latency_ms IS NULL THEN NULL ELSE quote(latency_ms) END, metric_version, experiment_id "
    "FROM prompt_history WHERE id > {watermark:d} ORDER BY id"
)
_APPEND = f"""
    INSERT INTO {LOCAL}
    SELECT CAST(c0 AS BIGINT), CAST(substr(c1, 1, 26) AS TIMESTAMP), {safe("c2")}, {safe("c3")}, {safe("c4")}, {safe("c5")},
           CAST(c6 AS DOUBLE), CAST(c7 AS DOUBLE), CAST(c8 AS DOUBLE), CAST(c9 AS INTEGER),
           {safe("c10")}
    FROM sqlite_query('{ALIAS}', {{sql}}) AS t(c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10)
"""


def full_load(connection: duckdb.DuckDBPyConnection) -> None:
    """Fill `<TABLE>_loading` with every row of the attached history, on one DuckDB thread."""
    (threads,) = connection.execute("SELECT current_setting('threads')").fetchone()
    connection.execute("SET threads = 1")
    try:
        connection.execute(_FULL_LOAD)
    finally:
        connection.execute(f"SET threads = {int(threads):d}")


def append_above(connection: duckdb.DuckDBPyConnection, watermark: int) -> None:
    """Append the rows of the attached history with `id > watermark` to the local table."""
    connection.execute(_APPEND.format(sql=literal(_APPEND_SQLITE.format(watermark=int(watermark)))))
