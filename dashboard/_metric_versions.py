"""The warning Analytics and Compare show when quality scores of different metric versions meet in a view.

Scores from two versions of the quality metric are on different scales (a degenerate answer scored 0.9
under the first metric and 0.45 under the second), so averages and comparisons over both mislead. We do
not filter them out (records would vanish from counts and tiles); we say so, with the counts, and name
the fix: `prompt-improver rescore`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date

import streamlit as st

from dashboard import _queries as queries
from dashboard._context import AppContext

RESCORE_HINT = "run `prompt-improver rescore` to score every record with the current metric"


def metric_version_note(counts: Mapping[int | None, int], current: int) -> str | None:
    """The warning for scores from several metric versions, or only from an older one; None when they are
    all current (or none carries a version, as demo data does).

    Args:
        counts: scored records per metric version (None: stored before versions were kept).
        current: the metric version this code scores with (`pipeline.quality.METRIC_VERSION`).
    """
    versions = {version: count for version, count in counts.items() if count}
    if not versions or set(versions) in ({current}, {None}):
        return None
    parts = [
        f"{count:,} by " + (f"the current metric (v{version})" if version == current
                            else "no recorded version" if version is None else f"metric v{version}")
        for version, count in sorted(versions.items(), key=lambda item: (item[0] is None, -(item[0] or 0)))
    ]
    if len(versions) == 1:
        return f"**Quality here is from an older metric:** {parts[0]} scored, not the current v{current}; {RESCORE_HINT}."
    return (f"**Quality scores of {len(versions)} metric versions are mixed here** ({', '.join(parts)}): averages, "
            f"charts and comparisons of quality combine scales that differ; {RESCORE_HINT}.")


def _warn(counts: Mapping[int | None, int]) -> None:
    from pipeline.quality import METRIC_VERSION

    note = metric_version_note(counts, METRIC_VERSION)
    if note:
        st.warning(note, icon=":material/rule:")


def range_note(context: AppContext, start: date | None, end: date | None, backend=None, model=None) -> None:
    """Warn when the records of a date range (the worker counts them) mix quality metric versions."""
    result = queries.calibration(str(context.db_path), context.version, start, end, backend, model)
    _warn(result["metric_versions"])


def records_note(records: Iterable[Mapping | None]) -> None:
    """Warn when these record dicts (`PromptHistory.to_dict()`) mix quality metric versions."""
    _warn(Counter(record.get("metric_version") for record in records
                  if record is not None and record.get("quality") is not None))
