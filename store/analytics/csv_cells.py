"""The formula-neutralisation rule every CSV report applies, without DuckDB (the dashboard writes some CSVs
itself, from data already in its process).

A spreadsheet runs a cell that starts with one of `FORMULA_PREFIXES` as a formula (OWASP "CSV injection"):
such a text cell gets a leading apostrophe. Numbers are never touched, so a negative difference stays a
number.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only for annotations: callers pass their own DataFrame
    import pandas as pd

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralised_cell(value):
    """`value` with a leading apostrophe when it is text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def neutralised_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` whose text cells are neutralised; numeric columns are left as they are."""
    from pandas.api.types import is_numeric_dtype

    out = frame.copy()
    for column in out.columns:
        # Text is `object` or (pandas 3) `str` dtype; numbers keep their type and their sign.
        if not is_numeric_dtype(out[column]):
            out[column] = out[column].map(neutralised_cell)
    return out
