"""Whole records (every column, text included) read straight from SQLite, for the History table and exports.

The read model holds only the analytic columns (a year of full texts would cost gigabytes of worker
memory), so these queries run inside SQLite through `sqlite_query()`, where the date range uses the
timestamp index. They need the file attached (see `ReadModel.attached`).
"""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING

import duckdb

from store.analytics.queries import date_range
from store.analytics.ranges import DateRange, literal, normalise_backend, where
from store.analytics.errors import AnalyticsQueryError
from store.analytics.read_model import ALIAS, TABLE
from store.analytics.text_search import SearchMatch, engine, search_match
from store.timestamps import to_iso
from store.analytics.utf8_text import safe

if TYPE_CHECKING:
    import pandas as pd

# pandas (and numpy) are imported where a DataFrame is built: importing pandas costs ~0.35 s, which a
# fresh `prompt-improver stats` (dicts only) should not pay.

RECORD_COLUMNS = (
    "id", "uid", "timestamp", "original_idea", "context", "improved_prompt", "role", "directive", "framework",
    "guardrails", "backend", "confidence", "reasoning", "latency_ms", "model_version", "program_version",
    "quality", "experiment_id", "metric_version",
)
_REAL = ("confidence", "latency_ms", "quality")
ORDERS = ("time", "relevance")
_SQLITE_COLUMNS = ", ".join(
    f"CASE WHEN {name} IS NULL THEN NULL ELSE quote({name}) END" if name in _REAL else name for name in RECORD_COLUMNS
)
_SQLITE_SELECT = f"SELECT {_SQLITE_COLUMNS} FROM prompt_history"
_ALIASES = ", ".join(f"c{index}" for index in range(len(RECORD_COLUMNS)))
# Types come back as text from sqlite_query(); quote() kept every digit of each REAL, so the casts are exact.
_TYPED = ", ".join(
    f"CAST(c{i} AS BIGINT) AS {name}" if name in ("id", "metric_version")
    else f"CAST(c{i} AS DOUBLE) AS {name}" if name in _REAL
    else f"{safe(f'c{i}')} AS {name}"  # text: invalid UTF-8 (written by another tool) becomes U+FFFD
    for i, name in enumerate(RECORD_COLUMNS)
)


def sqlite_literal(value: str) -> str:
    """`value` as an SQLite string literal.

    Raises:
        AnalyticsQueryError: the value holds a NUL character (no stored text can contain one).
    """
    if "\x00" in value:
        raise AnalyticsQueryError(f"a filter value contains a NUL character: {value!r}")
    return "'" + value.replace("'", "''") + "'"


Part = tuple[datetime | None, datetime | None]  # from (inclusive), to (exclusive); None: the range's own end
WHOLE: Part = (None, None)


def _sqlite_where(rng: DateRange, backend: str | None, model: str | None, part: Part = WHOLE, cast: str = "") -> str:
    """The range, part and filters as SQL over the history's own columns: SQLite's, or PostgreSQL's with
    `cast="::timestamptz"` (the bounds then compare as instants)."""
    # The stored text has one fixed shape, so comparing it as text orders it as time; `to_iso` keeps
    # that shape for every year (strftime's %Y does not zero-pad years before 1000).
    # A part's bounds replace the range's: given both, SQLite ranged its index on the looser one and read
    # from the part's start to the range's end (0.1 s per 50,000-record part at 1M records).
    start, stop = part

    def bound(moment: datetime) -> str:
        return sqlite_literal(to_iso(moment.replace(tzinfo=timezone.utc))) + cast

    clauses = [
        f"timestamp >= {bound(start or rng.lo)}",
        f"timestamp < {bound(stop)}" if stop is not None else f"timestamp <= {bound(rng.last)}",
    ]
    backend = normalise_backend(backend)
    if backend is not None:
        clauses.append(f"backend = {sqlite_literal(backend)}")
    if model:
        clauses.append(f"model_version = {sqlite_literal(model)}")
    return " AND ".join(clauses)


def records_query(
    rng: DateRange, backend: str | None, model: str | None, *, min_confidence: float | None = None,
    text: str | None = None, newest_first: bool = False, search: SearchMatch | None = None,
    include_experiments: bool = False, part: Part = WHOLE, engine: str = "sqlite",
) -> tuple[str, list]:
    """DuckDB SQL and parameters yielding every column of the matching records, typed: oldest first (a
    report), or newest first (the History page's order, so its download matches its table). Records of
    experiment runs are left out unless `include_experiments`, as the read model's scope does. `part`
    narrows the range to the instants from its first bound (included) to its second (excluded), naive UTC
    datetimes inside the range (see `store.analytics.csv_parts`). On PostgreSQL (`engine`) the filters, the
    full-text match and the order run in the server (see `_postgres_records`).

    `search` (from `search_match`, either engine) filters by the full-text index; without it, `text` is matched as
    a substring of the idea or the improved prompt (the fallback while the index is being built)."""
    postgres = engine == "postgres"
    window = _sqlite_where(rng, backend, model, part, cast="::timestamptz" if postgres else "")
    if not include_experiments:
        window += " AND experiment_id IS NULL"
    if min_confidence is not None:
        where(rng, None, None, min_confidence=min_confidence)  # validates it (a finite number)
        window += f" AND confidence >= {float(min_confidence)!r}"
    needle = "" if search is not None else (text or "").strip()
    outer, params = "", []
    if search is not None:
        window += f" AND {search.remote_condition() if postgres else search.condition()}"
    elif needle and needle.isascii() and not postgres:
        window += " AND " + _like(needle)
    elif needle:  # on PostgreSQL as the DuckDB view's NOCASE columns compared it before
        outer = (
            f" WHERE (contains(lower(original_idea), lower({literal(needle)}))"
            f" OR contains(lower(improved_prompt), lower({literal(needle)})))"
        )
    order = "timestamp DESC, id DESC" if newest_first else "timestamp, id"
    if postgres:
        return f"SELECT * FROM (SELECT {_TYPED} FROM ({_postgres_records(window, order)}) AS t({_ALIASES})){outer}", params
    sqlite_sql = f"{_SQLITE_SELECT} WHERE {window} ORDER BY {order}"
    sql = f"SELECT * FROM (SELECT {_TYPED} FROM sqlite_query('{ALIAS}', {literal(sqlite_sql)}) AS t({_ALIASES})){outer}"
    return sql, params


def _postgres_records(window: str, order: str) -> str:
    """DuckDB SQL yielding `_SQLITE_SELECT`'s columns of the records PostgreSQL finds with `window` (its SQL), in
    its `order` (its `(timestamp, id)` index), with SQLite's shapes. Through the DuckDB view of the attached
    table the server sent every row, DuckDB sorted 1M of them, and the COPY wrote the sorted runs out of order
    (a 1M-record export began in February); one ordered query is a single stream, written in its order, at
    185k rows/s against 123k."""
    from store.analytics.postgres_source import SHAPED_COLUMNS, records_sql_remote

    shaped = f"SELECT {SHAPED_COLUMNS} FROM {records_sql_remote(window, order)}"
    return f"SELECT {_SQLITE_COLUMNS} FROM ({shaped}) AS prompt_history"


def _like(needle: str) -> str:
    # SQLite's LIKE ignores case for ASCII letters; the needle's own % and _ are matched literally.
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = sqlite_literal(f"%{escaped}%")
    return f"(original_idea LIKE {pattern} ESCAPE '\\' OR improved_prompt LIKE {pattern} ESCAPE '\\')"


def empty_records() -> pd.DataFrame:
    """A History page with no rows but every column."""
    import pandas as pd

    return pd.DataFrame({name: pd.Series(dtype="object") for name in RECORD_COLUMNS})


def history_page(
    con: duckdb.DuckDBPyConnection,
    start: date | None = None,
    end: date | None = None,
    *,
    backend: str | None = None,
    model: str | None = None,
    min_confidence: float | None = None,
    text: str | None = None,
    limit: int = 50,
    offset: int = 0,
    order: str = "time",
) -> tuple[pd.DataFrame, int]:
    """One page of records, newest first (or, with a search and `order="relevance"`, best match first),
    and the number of records matching the filters.

    `text` is a full-text query (`store.search_query`) over idea, context, improved prompt, role,
    directive and guardrails; while the index is being built, a case-insensitive substring of the idea
    or the improved prompt. Timestamps come back as tz-aware UTC datetimes and guardrails as lists.
    """
    if order not in ORDERS:
        raise AnalyticsQueryError(f"order must be one of {', '.join(ORDERS)}, got {order!r}")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 10_000:
        raise AnalyticsQueryError(f"limit must be a whole number from 1 to 10000, got {limit!r}")
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise AnalyticsQueryError(f"offset must be a whole number >= 0, got {offset!r}")
    rng = date_range(con, start, end)
    if rng is None:
        return empty_records(), 0
    clause, params = where(rng, backend, model, min_confidence=min_confidence)
    needle = (text or "").strip()
    source, ordering = TABLE, "ts DESC, id DESC"
    if needle:
        search = search_match(con, needle)
        matched = _text_match_sql(rng, needle) if search is None else search.ids_sql(order, rng)
        con.execute(f"CREATE OR REPLACE TEMP TABLE matched_ids AS {matched}")
        source = f"{TABLE} JOIN matched_ids USING (id)"
        if search is not None and order == "relevance":
            ordering = "score, ts DESC, id DESC"  # bm25 or -ts_rank: lower is the better match
    try:
        total = con.execute(f"SELECT count(*) FROM {source} WHERE {clause}", params).fetchone()[0]
        ids = [row[0] for row in con.execute(
            f"SELECT id FROM {source} WHERE {clause} ORDER BY {ordering} LIMIT {limit:d} OFFSET {offset:d}",
            params,
        ).fetchall()]
    finally:
        if needle:
            con.execute("DROP TABLE IF EXISTS matched_ids")
    if not ids:
        return empty_records(), int(total)
    frame = con.execute(f"SELECT {_TYPED} FROM ({_page_rows(con, ids)}) AS t({_ALIASES})").df()
    import pandas as pd

    position = {record_id: index for index, record_id in enumerate(ids)}
    frame = frame.sort_values("id", key=lambda column: column.map(position)).reset_index(drop=True)
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], format="ISO8601", utc=True)
    frame["guardrails"] = [json.loads(value) for value in frame["guardrails"]]
    return frame[list(RECORD_COLUMNS)], int(total)


def _page_rows(con: duckdb.DuckDBPyConnection, ids: list[int]) -> str:
    """DuckDB SQL yielding `_SQLITE_SELECT`'s row of each id, read in the history's own engine by id."""
    id_list = ", ".join(str(int(i)) for i in ids)
    if engine(con) == "postgres":
        from store.analytics.postgres_source import records_by_id

        return f"SELECT {_SQLITE_COLUMNS} FROM ({records_by_id(ids)}) AS prompt_history"
    sqlite_sql = f"{_SQLITE_SELECT} WHERE id IN ({id_list})"
    return f"SELECT * FROM sqlite_query('{ALIAS}', {literal(sqlite_sql)})"


def _text_match_sql(rng: DateRange, needle: str) -> str:
    window = _sqlite_where(rng, None, None)
    if needle.isascii():
        sqlite_sql = f"SELECT id FROM prompt_history WHERE {window} AND {_like(needle)}"
        return f"SELECT CAST(c0 AS BIGINT) AS id FROM sqlite_query('{ALIAS}', {literal(sqlite_sql)}) AS t(c0)"
    # Beyond ASCII, SQLite's LIKE is case-sensitive: compare DuckDB's Unicode lower() instead.
    sqlite_sql = f"SELECT id, original_idea, improved_prompt FROM prompt_history WHERE {window}"
    return (
        f"SELECT CAST(c0 AS BIGINT) AS id FROM sqlite_query('{ALIAS}', {literal(sqlite_sql)}) AS t(c0, c1, c2) "
        f"WHERE contains(lower({safe('c1')}), lower({literal(needle)})) "
        f"OR contains(lower({safe('c2')}), lower({literal(needle)}))"
    )
