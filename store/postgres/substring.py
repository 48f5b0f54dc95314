"""The repository port's `search` on PostgreSQL: a case-insensitive substring of the idea or improved prompt.

The contract the three adapters share (tests/integration/test_store_contract.py) is SQLite's `LIKE`: an
ASCII needle folds ASCII letters only, in SQL; a needle with other characters is matched with Python's
Unicode case folding over the rows streamed newest first, since PostgreSQL 15 has no `casefold` and
`lower()` would answer differently from the other adapters. (History's word search is the full-text
index, `store/postgres/fts.py`; this is the port's plain substring search.)
"""

from __future__ import annotations

import psycopg

from store.postgres.rows import SELECT_SQL, row_to_record
from store.query_rules import like_pattern, text_matches
from store.record import PromptHistory

ORDER = " ORDER BY timestamp DESC, id DESC"
_UPPER, _LOWER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz"
_SCAN_BATCH = 2_000


def ascii_condition(text: str) -> tuple[str, list]:
    """The SQL condition and parameters matching the ASCII `text` as SQLite's LIKE does."""
    pattern = like_pattern(text.translate(str.maketrans(_UPPER, _LOWER)))
    condition = (
        f"(translate(original_idea, '{_UPPER}', '{_LOWER}') LIKE %s ESCAPE '\\' "
        f"OR translate(improved_prompt, '{_UPPER}', '{_LOWER}') LIKE %s ESCAPE '\\')"
    )
    return condition, [pattern, pattern]


def scan(conn: psycopg.Connection, where: list[str], params: list, text: str, limit: int,
         offset: int) -> list[PromptHistory]:
    """Records matching `where` whose idea or prompt contains `text` (Unicode case folding), newest first."""
    found: list[PromptHistory] = []
    sql = SELECT_SQL + (" WHERE " + " AND ".join(where) if where else "") + ORDER
    with conn.cursor(name="search_scan") as cursor:
        cursor.itersize = _SCAN_BATCH
        skipped = 0
        for row in cursor.execute(sql, params):
            record = row_to_record(row)
            if not (text_matches(text, record.original_idea) or text_matches(text, record.improved_prompt)):
                continue
            if skipped < offset:
                skipped += 1
                continue
            if len(found) >= limit:
                break
            found.append(record)
    return found
