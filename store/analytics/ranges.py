"""Date ranges and filters shared by every analytics query. Pure: no I/O.

Dates are UTC calendar days and both ends are inclusive: `start=2026-01-01, end=2026-01-31` covers
`[2026-01-01T00:00:00Z, 2026-02-01T00:00:00Z)`, so a record at 23:59:59.999999 on the end date counts
and one at midnight the next day does not. Either end may instead be an instant (a naive `datetime`,
UTC), included as given: the command line accepts timestamps as `history` does. A missing `start` or
`end` means the first or last day that holds a record.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from store.analytics.errors import AnalyticsQueryError
from store.record import BackendType

BACKENDS = tuple(member.value for member in BackendType)
BUCKETS = ("hour", "day", "week")
HOUR_BUCKETS_UP_TO_DAYS = 2
DAY_BUCKETS_UP_TO_DAYS = 120


def _first_instant(day: date) -> datetime:
    return day.replace(tzinfo=None) if isinstance(day, datetime) else datetime.combine(day, time())


def _last_instant(day: date) -> datetime:
    # Stored timestamps have microsecond precision, so `ts <= 23:59:59.999999` is `ts < next midnight`;
    # unlike the next midnight it exists for every day, 9999-12-31 included.
    return day.replace(tzinfo=None) if isinstance(day, datetime) else datetime.combine(day, time.max)


def _day(value: date) -> date:
    return value.date() if isinstance(value, datetime) else value


@dataclass(frozen=True, slots=True)
class DateRange:
    """Inclusive UTC days `start`..`end` (or instants, see the module docstring), i.e. the instants `lo` to
    `last`, both included (naive datetimes, UTC)."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.last < self.lo:
            raise AnalyticsQueryError(f"the range ends ({self.end}) before it starts ({self.start})")

    @property
    def lo(self) -> datetime:
        """The first instant of `start` (UTC)."""
        return _first_instant(self.start)

    @property
    def last(self) -> datetime:
        """The last instant of `end` (UTC, 23:59:59.999999 of a day), inclusive."""
        return _last_instant(self.end)

    @property
    def days(self) -> int:
        """The number of calendar days covered, both ends included."""
        return (_day(self.end) - _day(self.start)).days + 1

    def previous(self) -> DateRange | None:
        """The period of equal length (in days) that ends the day before `start` (for deltas); None when it
        would begin before 0001-01-01, the first day a date can name."""
        start = _day(self.start)
        try:
            return DateRange(start - timedelta(days=self.days), start - timedelta(days=1))
        except OverflowError:
            return None

    def as_dict(self) -> dict:
        """`{"start": "YYYY-MM-DD", "end": "YYYY-MM-DD"}` (an instant as `YYYY-MM-DDTHH:MM:SS+00:00`)."""
        return {"start": _text(self.start), "end": _text(self.end)}


def _text(value: date) -> str:
    return value.replace(tzinfo=timezone.utc).isoformat() if isinstance(value, datetime) else value.isoformat()


def check_dates(start: date | None, end: date | None) -> None:
    """Refuse non-dates and zoned datetimes early, naming the value.

    Raises:
        AnalyticsQueryError: `start` or `end` is neither a `datetime.date` nor a naive `datetime` (an
            instant in UTC); an aware datetime is refused rather than read in the wrong zone.
    """
    for name, value in (("start", start), ("end", end)):
        if value is not None and (not isinstance(value, date) or getattr(value, "tzinfo", None) is not None):
            raise AnalyticsQueryError(
                f"{name} must be a datetime.date (a UTC day), a naive datetime (UTC) or None, got {value!r}"
            )
    if start is not None and end is not None and _last_instant(end) < _first_instant(start):
        raise AnalyticsQueryError(f"the range ends ({end}) before it starts ({start})")


def resolve_range(start: date | None, end: date | None, first: datetime | None, last: datetime | None) -> DateRange | None:
    """The range to query: a missing `start`/`end` becomes the day of the first/last record (`first`,
    `last`); None when a bound is missing and there is no data to take it from."""
    check_dates(start, end)
    if start is None:
        if first is None:
            return None if end is None else DateRange(end, end)
        start = min(first.date(), _day(end)) if end is not None else first.date()
    if end is None:
        end = max(last.date(), _day(start)) if last is not None else _day(start)
    return DateRange(start, end)


def choose_bucket(date_range: DateRange) -> str:
    """`hour` for ranges of up to 2 days, `day` up to 120 days, `week` (starting Monday) beyond."""
    if date_range.days <= HOUR_BUCKETS_UP_TO_DAYS:
        return "hour"
    if date_range.days <= DAY_BUCKETS_UP_TO_DAYS:
        return "day"
    return "week"


def normalise_backend(backend: str | None) -> str | None:
    """`zero-shot`/`few-shot` (any spelling `BackendType.parse` accepts), or None for both."""
    if backend is None or backend == "":
        return None
    try:
        return BackendType.parse(backend).value
    except ValueError:
        raise AnalyticsQueryError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}") from None


def literal(value: object) -> str:
    """`value` as a DuckDB SQL literal.

    The analytics inline their values instead of binding parameters: DuckDB's Python client imports
    pandas, numpy and pyarrow (~0.7 s) on the first bound parameter, which a fresh `stats` should not pay.

    Raises:
        AnalyticsQueryError: a text holding a NUL character, a non-finite number, an unsupported type.
    """
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        if not math.isfinite(value):
            raise AnalyticsQueryError(f"a filter value must be a finite number, got {value!r}")
        return f"{value!r}::DOUBLE"
    if isinstance(value, datetime):
        return f"TIMESTAMP '{value.replace(tzinfo=None).isoformat(sep=' ')}'"
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, str):
        if "\x00" in value:
            raise AnalyticsQueryError(f"a filter value contains a NUL character: {value!r}")
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(literal(item) for item in value) + "]"
    raise AnalyticsQueryError(f"unsupported filter value {value!r}")


def where(date_range: DateRange, backend: str | None, model: str | None, **extra: object) -> tuple[str, list]:
    """A WHERE clause over the read model's `ts`, `backend` and `model` columns (values inlined, see
    `literal`), and its parameters (always empty; kept so call sites read like parameterised SQL).

    `extra` supports `min_confidence` (inclusive).
    """
    clauses = [f"ts >= {literal(date_range.lo)}", f"ts <= {literal(date_range.last)}"]
    backend = normalise_backend(backend)
    if backend is not None:
        clauses.append(f"backend = {literal(backend)}")
    if model is not None and model != "":
        clauses.append(f"model = {literal(str(model))}")
    if extra.get("min_confidence") is not None:
        value = extra["min_confidence"]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise AnalyticsQueryError(f"min_confidence must be a number or None, got {value!r}")
        clauses.append(f"confidence >= {literal(float(value))}")
    return " AND ".join(clauses), []


def backends_for(backend: str | None) -> list[str]:
    """The backends a per-backend result lists: the filtered one, or both."""
    backend = normalise_backend(backend)
    return [backend] if backend is not None else list(BACKENDS)
