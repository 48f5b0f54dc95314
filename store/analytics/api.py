"""The analytics API, shared by `Analytics` (in-process) and `AnalyticsWorker` (in its own process).

Dates are `datetime.date` values meaning UTC days, both ends inclusive (`None`: from the first / to the
last record). `backend` is `zero-shot` or `few-shot` (None: both); `model` is a `model_version` (None:
all). Records of experiment runs (with an `experiment_id`) are left out unless `include_experiments`.
Results are dicts of plain Python values (None for an empty metric) or DataFrames (NaN).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only for annotations: the worker's client never needs pandas itself
    import pandas as pd

# Records per part of a large CSV export, written in parallel (`store.analytics.csv_parts`): 20 parts at 1M
# records; smaller parts cost more than they balance (about 20 ms each).
ROWS_PER_PART = 50_000


@dataclass(frozen=True, slots=True)
class ExportedFile:
    """A CSV the analytics wrote to a private temporary directory for a download: read it, then `remove()`."""

    path: Path
    rows: int

    def __post_init__(self) -> None:
        if self.rows < 0:
            raise ValueError(f"rows must be at least 0, got {self.rows}")

    def remove(self) -> None:
        """Delete the file and its temporary directory (nothing else is ever in it)."""
        self.path.unlink(missing_ok=True)
        try:
            self.path.parent.rmdir()
        except OSError:  # already gone, or not ours to remove: the file is what mattered
            pass


class AnalyticsApi:
    """Named methods over `_call(name, *args, **kwargs)`, which subclasses implement."""

    def _call(self, name: str, *args, **kwargs):  # pragma: no cover - implemented by subclasses
        raise NotImplementedError

    def status(self) -> dict:
        """`db_path`, `first_sync` (`restore`: started from the on-disk snapshot; `rebuild`: a full load),
        `last_sync` and `rows` in the read model."""
        return self._call("status")

    def kpis(
        self, start: date | None = None, end: date | None = None, *, backend=None, model=None,
        include_experiments: bool = False,
    ) -> dict:
        """Count, avg confidence/quality/latency, p50/p95 latency, `by_backend`, and `previous` (the
        period of equal length before `start`, None without a `start`)."""
        return self._call("kpis", start, end, backend=backend, model=model, include_experiments=include_experiments)

    def statistics(
        self, start: date | None = None, end: date | None = None, *, backend=None, model=None,
        include_experiments: bool = False,
    ) -> dict:
        """`total_count`, `average_confidence`, `average_latency_ms`, `backend_distribution`,
        `p50_latency_ms`, `p95_latency_ms`, `average_quality`, `by_backend` (and `start`, `end`)."""
        return self._call(
            "statistics", start, end, backend=backend, model=model, include_experiments=include_experiments
        )

    def timeseries(
        self, start=None, end=None, *, backend=None, model=None, bucket: str | None = None,
        include_experiments: bool = False,
    ) -> pd.DataFrame:
        """Bucket x backend rows (empty buckets kept): `bucket` (UTC), `backend`, `count`,
        `avg_confidence`, `avg_quality`, `p50_latency_ms`, `p95_latency_ms`. Bucket: hour up to 2 days,
        day up to 120 days, else week (Monday)."""
        return self._call(
            "timeseries", start, end, backend=backend, model=model, bucket=bucket,
            include_experiments=include_experiments,
        )

    def backend_distribution(
        self, start=None, end=None, *, backend=None, model=None, include_experiments: bool = False
    ) -> pd.DataFrame:
        """Columns `backend`, `count`, `share`."""
        return self._call(
            "backend_distribution", start, end, backend=backend, model=model, include_experiments=include_experiments
        )

    def model_distribution(
        self, start=None, end=None, *, backend=None, model=None, include_experiments: bool = False
    ) -> pd.DataFrame:
        """Columns `model`, `count`, `share`."""
        return self._call(
            "model_distribution", start, end, backend=backend, model=model, include_experiments=include_experiments
        )

    def histograms(
        self, start=None, end=None, *, backend=None, model=None, include_experiments: bool = False
    ) -> dict[str, pd.DataFrame]:
        """`{"confidence", "quality", "latency_ms"}` -> `backend`, `bin`, `bin_start`, `bin_end`, `count`,
        `log_scale`."""
        return self._call(
            "histograms", start, end, backend=backend, model=model, include_experiments=include_experiments
        )

    def calibration(self, start=None, end=None, *, backend=None, model=None) -> dict:
        """Confidence against quality: `bins` (backend, bin, bin_start, bin_end, count, avg_confidence,
        avg_quality, gap), `ece` and `counts` per backend, and `metric_versions` (scored records per
        metric version in the range). See store/analytics/calibration.py."""
        return self._call("calibration", start, end, backend=backend, model=model)

    def analytics_page(
        self, start=None, end=None, *, backend=None, model=None, top_limit: int = 10, with_kpis: bool = True,
        include_experiments: bool = False,
    ) -> dict:
        """The whole Analytics page in one call: `{"kpis", "timeseries", "histograms", "top_frameworks",
        "top_roles"}`, each what the method of that name returns (tops with `limit=top_limit`); without
        `kpis` when `with_kpis` is False."""
        return self._call(
            "analytics_page", start, end, backend=backend, model=model, top_limit=top_limit, with_kpis=with_kpis,
            include_experiments=include_experiments,
        )

    def top_frameworks(
        self, start=None, end=None, *, backend=None, model=None, limit: int = 10, include_experiments: bool = False
    ) -> pd.DataFrame:
        """Columns `framework`, `count`, `share`; the `limit` most used."""
        return self._call(
            "top_frameworks", start, end, backend=backend, model=model, limit=limit,
            include_experiments=include_experiments,
        )

    def top_roles(
        self, start=None, end=None, *, backend=None, model=None, limit: int = 10, include_experiments: bool = False
    ) -> pd.DataFrame:
        """Columns `role`, `count`, `share`; the `limit` most used."""
        return self._call(
            "top_roles", start, end, backend=backend, model=model, limit=limit, include_experiments=include_experiments
        )

    def unpaired_samples(
        self, start=None, end=None, metric: str = "quality", *, backend=None, model=None,
        include_experiments: bool = False,
    ) -> dict:
        """`{backend: [values of metric]}` for `confidence`, `quality` or `latency_ms`, NULLs left out."""
        return self._call(
            "unpaired_samples", start, end, metric, backend=backend, model=model,
            include_experiments=include_experiments,
        )

    def history_page(
        self, start=None, end=None, *, backend=None, model=None, min_confidence: float | None = None,
        text: str | None = None, limit: int = 50, offset: int = 0, order: str = "time",
        include_experiments: bool = False,
    ) -> tuple[pd.DataFrame, int]:
        """One page of whole records and the total matching: newest first, or best match first with a
        `text` search and `order="relevance"`. `text` is a full-text query (`store.search_query`)."""
        return self._call(
            "history_page", start, end, backend=backend, model=model, min_confidence=min_confidence,
            text=text, limit=limit, offset=offset, order=order, include_experiments=include_experiments,
        )

    def search_status(self) -> dict:
        """`{"indexed": 0.0..1.0}`, how much of the history the full-text index holds (None: no index)."""
        return self._call("search_status")

    def export_records(
        self, path: Path, start=None, end=None, *, backend=None, model=None, min_confidence: float | None = None,
        text: str | None = None, file_format: str = "csv", progress=None, include_experiments: bool = False,
        rows_per_part: int = ROWS_PER_PART,
    ) -> int:
        """Write the matching records (every column) as CSV or Parquet (`file_format`) to `path`; return the
        row count. `progress(share, rows)` is called as the file grows (through the worker too: the worker
        sends the progress back over its pipe and the callback runs in the caller's process). A CSV of two
        `rows_per_part` or more is written in parts, in parallel (`store.analytics.csv_parts`)."""
        extra = {} if progress is None else {"progress": progress}
        return self._call(
            "export_records", Path(path), start, end, backend=backend, model=model, min_confidence=min_confidence,
            text=text, file_format=file_format, include_experiments=include_experiments, rows_per_part=rows_per_part,
            **extra,
        )

    def export_summary(
        self, path: Path, start=None, end=None, *, backend=None, model=None, include_experiments: bool = False
    ) -> int:
        """Write the per day x backend summary as CSV to `path`; return the row count."""
        return self._call(
            "export_summary", Path(path), start, end, backend=backend, model=model,
            include_experiments=include_experiments,
        )

    def records_csv(
        self, start=None, end=None, *, backend=None, model=None, min_confidence: float | None = None,
        text: str | None = None, max_rows: int = 200_000, newest_first: bool = False,
        include_experiments: bool = False,
    ) -> bytes:
        """The matching records' CSV as bytes for a download (raises `ExportTooLarge` beyond `max_rows`)."""
        return self._call(
            "records_csv", start, end, backend=backend, model=model, min_confidence=min_confidence, text=text,
            max_rows=max_rows, newest_first=newest_first, include_experiments=include_experiments,
        )

    def records_file(
        self, start=None, end=None, *, backend=None, model=None, min_confidence: float | None = None,
        text: str | None = None, max_rows: int = 200_000, newest_first: bool = False,
        include_experiments: bool = False, expected: int | None = None, progress=None,
    ) -> ExportedFile:
        """The matching records' CSV (as `records_csv`) written to a temporary file, for a download: the
        caller reads `path` and calls `remove()`. `progress(share, rows)` is called as the file grows
        (against `expected` rows when given), also through the worker. Raises `ExportTooLarge` beyond
        `max_rows`."""
        extra = {} if progress is None else {"progress": progress}
        return self._call(
            "records_file", start, end, backend=backend, model=model, min_confidence=min_confidence, text=text,
            max_rows=max_rows, newest_first=newest_first, include_experiments=include_experiments,
            expected=expected, **extra,
        )

    def summary_csv(
        self, start=None, end=None, *, backend=None, model=None, include_experiments: bool = False
    ) -> bytes:
        """The summary CSV as bytes for a download."""
        return self._call(
            "summary_csv", start, end, backend=backend, model=model, include_experiments=include_experiments
        )
