"""The Analytics view's filter: date presets and backend/model, and their round trip through the URL.

Dates are calendar days in UTC, and ranges are inclusive of both ends (the analytics worker's contract).
A view is bookmarkable because the whole filter lives in `st.query_params`:

    ?range=90d&backend=few-shot&model=openai/gpt-4o-mini
    ?range=custom&from=2026-01-01&to=2026-01-31
    ?experiments=include   (experiment runs are left out unless this is given)

Parameters that cannot be read (an unknown preset, a malformed date, an inverted range) fall back to the
defaults instead of failing: a stale or hand-edited link still opens the page. Pure functions, no Streamlit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from store.record import BackendType

PRESETS: dict[str, str] = {
    "7d": "Last 7 days",
    "30d": "Last 30 days",
    "90d": "Last 90 days",
    "365d": "Last 365 days",
    "all": "All time",
    "custom": "Custom range",
}
PRESET_DAYS = {"7d": 7, "30d": 30, "90d": 90, "365d": 365}
# What "N days" means everywhere (these presets, the retention on Settings, `prune`, `demo-data --days`).
DAYS_MEANING = "N days = N calendar days in UTC, today included (7 days: today and the 6 days before)."
DEFAULT_PRESET = "30d"
ALL_BACKENDS = "all"
ALL_MODELS = "all"
EXPERIMENTS_PARAM = "experiments"
INCLUDE = "include"
EXPERIMENTS_LABEL = "Include experiment runs"
EXPERIMENTS_HELP = (
    "Records written by `compare` experiments (paired test runs of both backends) are left out by default so "
    "they do not skew your own history; the Compare page analyses them."
)


@dataclass(frozen=True, slots=True)
class ViewFilter:
    """What the Analytics page shows: a preset, its resolved inclusive UTC date range, backend and model.

    `start`/`end` are None for "all time". `backend` and `model` are None for "every backend/model".
    """

    preset: str = DEFAULT_PRESET
    start: date | None = None
    end: date | None = None
    backend: str | None = None
    model: str | None = None
    include_experiments: bool = False  # records of `compare` runs are left out by default

    @property
    def days(self) -> int | None:
        """How many calendar days the range spans, or None for all time."""
        if self.start is None or self.end is None:
            return None
        return (self.end - self.start).days + 1

    def previous(self) -> tuple[date, date] | None:
        """The period of equal length that ends the day before `start` (for KPI deltas), or None."""
        if self.days is None or self.start is None:
            return None
        end = self.start - timedelta(days=1)
        return end - timedelta(days=self.days - 1), end

    def describe(self) -> str:
        """A short human label, e.g. "Last 30 days (2026-10-28 – 2026-11-26, UTC)"."""
        if self.start is None or self.end is None:
            span = "All time"
        else:
            label = PRESETS.get(self.preset, "Custom range")
            span = f"{label} ({self.start.isoformat()} – {self.end.isoformat()}, UTC)"
        parts = [span]
        if self.backend:
            parts.append(self.backend)
        if self.model:
            parts.append(self.model)
        if self.include_experiments:
            parts.append("with experiment runs")
        return " · ".join(parts)


def preset_range(preset: str, today: date) -> tuple[date | None, date | None]:
    """The inclusive range of a preset ending today ("7d" is today and the six days before it).

    Raises:
        ValueError: for "custom" or an unknown preset (their range comes from the user).
    """
    if preset == "all":
        return None, None
    if preset not in PRESET_DAYS:
        raise ValueError(f"preset {preset!r} has no fixed range; choose one of {sorted(PRESET_DAYS)} or 'all'")
    return today - timedelta(days=PRESET_DAYS[preset] - 1), today


def _first(value: object) -> str | None:
    # st.query_params gives the last value for a repeated key; AppTest may hand over lists.
    if isinstance(value, (list, tuple)):
        value = value[-1] if value else None
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _parse_date(value: object) -> date | None:
    text = _first(value)
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _parse_backend(value: object) -> str | None:
    text = _first(value)
    if text is None or text == ALL_BACKENDS:
        return None
    try:
        return BackendType.parse(text).value
    except ValueError:
        return None


def from_query_params(params: Mapping[str, object], today: date) -> ViewFilter:
    """Read a filter from URL parameters; anything unreadable falls back to its default."""
    preset = _first(params.get("range")) or DEFAULT_PRESET
    if preset not in PRESETS:
        preset = DEFAULT_PRESET
    backend = _parse_backend(params.get("backend"))
    model = _first(params.get("model"))
    if model == ALL_MODELS:
        model = None
    if model is not None and len(model) > 500:
        model = None
    experiments = _first(params.get(EXPERIMENTS_PARAM)) == INCLUDE
    if preset == "custom":
        start, end = _parse_date(params.get("from")), _parse_date(params.get("to"))
        if start is None or end is None or start > end:
            preset = DEFAULT_PRESET
        else:
            return ViewFilter("custom", start, end, backend, model, experiments)
    start, end = preset_range(preset, today)
    return ViewFilter(preset, start, end, backend, model, experiments)


def to_query_params(view: ViewFilter) -> dict[str, str]:
    """The URL parameters that reproduce `view` (defaults are left out to keep links short)."""
    params: dict[str, str] = {}
    if view.preset != DEFAULT_PRESET:
        params["range"] = view.preset
    if view.preset == "custom" and view.start is not None and view.end is not None:
        params["from"] = view.start.isoformat()
        params["to"] = view.end.isoformat()
    if view.backend:
        params["backend"] = view.backend
    if view.model:
        params["model"] = view.model
    if view.include_experiments:
        params[EXPERIMENTS_PARAM] = INCLUDE
    return params


def custom_filter(
    start: date, end: date, backend: str | None, model: str | None, include_experiments: bool = False
) -> ViewFilter:
    """A custom range; the two dates are swapped if given in reverse order."""
    if start > end:
        start, end = end, start
    return ViewFilter("custom", start, end, backend, model, include_experiments)


def preset_filter(
    preset: str, today: date, backend: str | None, model: str | None, include_experiments: bool = False
) -> ViewFilter:
    """A preset range ending today."""
    start, end = preset_range(preset, today)
    return ViewFilter(preset, start, end, backend, model, include_experiments)
