"""Text read from SQLite by DuckDB, with invalid UTF-8 replaced by U+FFFD instead of failing the query.

Why: SQLite stores whatever bytes a writer gives it (another tool, raw SQL, a damaged page), while DuckDB
requires valid UTF-8: one such record made the read model's load, the History page and every export of
its range fail (a CSV export even invalidated the DuckDB instance). The scanner hands the bytes over as
they are, so `utf8_safe(column)` first lets DuckDB's own decoder validate them (`try(decode(encode(x)))`:
NULL instead of an error for anything but well-formed UTF-8, surrogates included; about 0.05 s per 150 MB
here, where a regular expression took 1.3 s) and passes valid text through unchanged (not the decoded copy:
cheaper in a 1M-row export). Only text that fails takes
the slow road: `hex()` reads its bytes without validating, and `utf8_text` decodes the hex, replacing each
byte that starts no valid sequence, as Python's `bytes.decode(errors="replace")` does for the `sqlite3`
side (`store.sqlite.connection.connect`).
"""

from __future__ import annotations

import duckdb

MACRO = "utf8_safe"
_CONT = "[89AB][0-9A-F]"  # a continuation byte, as two upper-case hex digits (SQLite's and DuckDB's hex())
# One well-formed UTF-8 sequence (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
_SEQUENCE = (
    f"[0-7][0-9A-F]|C[2-9A-F]{_CONT}|D[0-9A-F]{_CONT}|E0[AB][0-9A-F]{_CONT}|E[1-9A-CEF]{_CONT}{_CONT}"
    f"|ED[0-7][0-9A-F]{_CONT}|F0[9AB][0-9A-F]{_CONT}{_CONT}|F[1-3]{_CONT}{_CONT}{_CONT}|F48[0-9A-F]{_CONT}{_CONT}"
)
_REPLACEMENT = "EFBFBD"  # U+FFFD in UTF-8
_CREATE_REPAIR = f"""
    CREATE OR REPLACE TEMP MACRO utf8_text(h) AS CASE
        WHEN h IS NULL THEN NULL
        WHEN regexp_full_match(h, '(?:{_SEQUENCE})*') THEN decode(unhex(h))
        ELSE decode(unhex(array_to_string(list_transform(
            regexp_extract_all(h, '{_SEQUENCE}|[0-9A-F]{{2}}'),
            piece -> CASE WHEN length(piece) = 2 AND piece >= '80' THEN '{_REPLACEMENT}' ELSE piece END), '')))
    END
"""
_CREATE = f"""
    CREATE OR REPLACE TEMP MACRO {MACRO}(x) AS
        CASE WHEN try(decode(encode(x))) IS NULL AND x IS NOT NULL THEN utf8_text(hex(x)) ELSE x END
"""


def install(connection: duckdb.DuckDBPyConnection) -> None:
    """Define `utf8_safe(text)` (and `utf8_text(hex)`) on `connection`: temporary macros, which live as long
    as the connection."""
    connection.execute(_CREATE_REPAIR)
    connection.execute(_CREATE)


def safe(expression: str) -> str:
    """DuckDB SQL reading the text `expression` (a column of the attached SQLite file) as valid UTF-8."""
    return f"{MACRO}({expression})"
