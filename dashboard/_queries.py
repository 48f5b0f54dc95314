"""The pages' read side: the analytics worker's queries, cached for a short time per filter and data version.

Each function is `st.cache_data(ttl=30)` keyed by its arguments — the database path, the data version
(bumped when this app writes or prunes, so its own writes show at once) and the filters — so moving
back and forth between filters is instant while writes by other processes show within 30 seconds.
The Analytics page's charts share one cached worker call (`charts`), which `timeseries`, `histograms` and
`top` read from. The queries run in the analytics worker's process (DuckDB never opens the file in this process).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pandas as pd
import streamlit as st

from dashboard import composition

TTL_S = 30
MAX_DOWNLOAD_ROWS = 200_000  # a browser download; larger exports belong to `prompt-improver export`
TOP_LIMIT = 8  # frameworks and roles per chart


def _worker(db_path: str):
    return composition.analytics_worker(db_path)


@st.cache_data(ttl=TTL_S, show_spinner=False, max_entries=256)
def kpis(
    db_path: str, version: int, start: date | None, end: date | None, backend: str | None, model: str | None,
    include_experiments: bool = False,
) -> dict:
    """KPIs of the range and the previous period of equal length (`previous`, None for all time)."""
    return _worker(db_path).kpis(start, end, backend=backend, model=model, include_experiments=include_experiments)


@st.cache_data(ttl=TTL_S, show_spinner=False, max_entries=256)
def charts(
    db_path: str, version: int, start: date | None, end: date | None, backend: str | None, model: str | None,
    include_experiments: bool = False,
) -> dict:
    """Every chart's data for one view from one worker call (one round trip and one freshness sync instead
    of four): `timeseries`, `histograms`, `top_frameworks`, `top_roles`. The KPIs are fetched on their own
    (`kpis`, also used by History), so the page never computes them twice."""
    return _worker(db_path).analytics_page(
        start, end, backend=backend, model=model, top_limit=TOP_LIMIT, with_kpis=False,
        include_experiments=include_experiments,
    )


def timeseries(
    db_path: str, version: int, start: date | None, end: date | None, backend: str | None, model: str | None,
    include_experiments: bool = False,
) -> pd.DataFrame:
    """Per bucket × backend: count, average confidence and quality, p50/p95 latency."""
    return charts(db_path, version, start, end, backend, model, include_experiments)["timeseries"]


@st.cache_data(ttl=TTL_S, show_spinner=False, max_entries=256)
def calibration(
    db_path: str, version: int, start: date | None, end: date | None, backend: str | None, model: str | None
) -> dict:
    """Confidence against quality per bin and backend, the ECE per backend, and scored records per metric
    version (see store/analytics/calibration.py)."""
    return _worker(db_path).calibration(start, end, backend=backend, model=model)


@st.cache_data(ttl=TTL_S, show_spinner=False, max_entries=64)
def models(db_path: str, version: int) -> list[str]:
    """Every model in the history, most used first (for the model filters)."""
    frame = _worker(db_path).model_distribution(None, None)
    return [str(name) for name in frame["model"].tolist()]


def histograms(
    db_path: str, version: int, start: date | None, end: date | None, backend: str | None, model: str | None,
    include_experiments: bool = False,
) -> dict[str, pd.DataFrame]:
    """Confidence, quality and latency histograms by backend: `backend`, `bin_start`, `bin_end`, `count`."""
    return charts(db_path, version, start, end, backend, model, include_experiments)["histograms"]


def top(
    db_path: str, version: int, start: date | None, end: date | None, backend: str | None, model: str | None,
    include_experiments: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The most used frameworks and roles, as `name`, `count`."""
    page = charts(db_path, version, start, end, backend, model, include_experiments)
    return (page["top_frameworks"].rename(columns={"framework": "name"}),
            page["top_roles"].rename(columns={"role": "name"}))


@st.cache_data(ttl=TTL_S, show_spinner=False, max_entries=256)
def history_page(
    db_path: str, version: int, start: date | None, end: date | None, backend: str | None, model: str | None,
    min_confidence: float | None, text: str | None, limit: int, offset: int, order: str = "time",
    include_experiments: bool = False,
) -> tuple[pd.DataFrame, int]:
    """One page of records matching the filters (newest or best match first), and how many match in all."""
    return _worker(db_path).history_page(
        start, end, backend=backend, model=model, min_confidence=min_confidence, text=text, limit=limit, offset=offset,
        order=order, include_experiments=include_experiments,
    )


@st.cache_data(ttl=TTL_S, show_spinner=False, max_entries=16)
def search_indexed(db_path: str, version: int) -> float | None:
    """How much of the history the full-text index holds (0.0–1.0; None: the file has no index)."""
    return _worker(db_path).search_status()["indexed"]


def records_csv(
    db_path: str, start: date | None, end: date | None, backend: str | None, model: str | None,
    min_confidence: float | None = None, text: str | None = None, include_experiments: bool = False,
) -> bytes:
    """The records matching every filter of the History table as CSV bytes (see `records_download`)."""
    return records_download(db_path, start, end, backend, model, min_confidence, text, include_experiments)[0]


def records_download(
    db_path: str, start: date | None, end: date | None, backend: str | None, model: str | None,
    min_confidence: float | None = None, text: str | None = None, include_experiments: bool = False, *,
    expected: int | None = None, progress: Callable[[float, int], None] | None = None,
) -> tuple[bytes, int]:
    """The matching records' CSV and its row count, newest first like the History table (not cached: built
    when the user asks for the download). The worker writes it to a temporary file with DuckDB's CSV writer
    (RFC 4180 quoting, OWASP formula neutralisation, at most MAX_DOWNLOAD_ROWS records), calling
    `progress(share, rows)` as it grows (against `expected` rows); the file is read, then removed."""
    exported = _worker(db_path).records_file(
        start, end, backend=backend, model=model, min_confidence=min_confidence, text=text,
        max_rows=MAX_DOWNLOAD_ROWS, newest_first=True, include_experiments=include_experiments,
        expected=expected, progress=progress,
    )
    try:
        return exported.path.read_bytes(), exported.rows
    finally:
        exported.remove()


def summary_csv(db_path: str, start: date | None, end: date | None, backend: str | None, model: str | None,
                include_experiments: bool = False) -> bytes:
    """The per day × backend summary report as CSV bytes (built when the user clicks the download)."""
    return _worker(db_path).summary_csv(
        start, end, backend=backend, model=model, include_experiments=include_experiments
    )


@st.cache_data(ttl=TTL_S, show_spinner="Checking the database…", max_entries=16)
def health(db_path: str, version: int, _repo) -> object:
    """The repository's health report (file sizes, rows, schema, `quick_check`), cached like the queries:
    `quick_check` reads every page, which takes seconds on a large file."""
    return _repo.health()


@st.cache_data(ttl=TTL_S, show_spinner=False, max_entries=64)
def prune_preview(db_path: str, version: int, days: int, _repo) -> object:
    """What a prune of records older than `days` days would delete (a dry run through the repository)."""
    from dashboard._retention import preview

    return preview(_repo, days)
