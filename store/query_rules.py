"""Query semantics both repository implementations share: argument checks, text matching, cut-offs.

Keeping them in one place is what lets the contract tests hold the SQLite adapter and the in-memory
fake to exactly the same answers. Standard library only.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta, timezone
from types import MappingProxyType

from store.errors import RepositoryConstraintError
from store.record import BackendType
from store.timestamps import utc_now


MAX_INTEGER = 2**63 - 1  # SQLite's largest INTEGER: a larger limit or offset cannot even be bound


def check_page(limit: int, offset: int) -> None:
    """Raise ValueError naming the bad value unless limit and offset are integers from 0 to 2**63 - 1."""
    for name, value in (("limit", limit), ("offset", offset)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
        if value < 0:
            raise ValueError(f"{name} must be >= 0, got {value}")
        if value > MAX_INTEGER:
            raise ValueError(f"{name} must be at most {MAX_INTEGER} (SQLite's largest integer), got {value}")


def check_range(start: datetime, end: datetime) -> None:
    """Raise ValueError unless both bounds are aware datetimes with start <= end."""
    for name, value in (("start", start), ("end", end)):
        if not isinstance(value, datetime) or value.utcoffset() is None:
            raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")
    if start > end:
        raise ValueError(f"start ({start.isoformat()}) is after end ({end.isoformat()}); swap them")


def parse_backend(backend: BackendType | str | None) -> BackendType | None:
    """None, or the BackendType for an enum member or its text (InvalidRecord for anything else)."""
    return None if backend is None else BackendType.parse(backend)


def cutoff(days: int, now: datetime | None = None) -> datetime:
    """The start (00:00 UTC) of the oldest day kept when keeping the last `days` days; records strictly
    older are what retention deletes.

    "N days" means N calendar days in UTC with today included, as on the Analytics page ("Last 7 days" is
    today and the 6 days before) and in `demo-data --days`: keeping 7 days on a Wednesday keeps everything
    from Thursday of the week before at 00:00 UTC on. 0 days keeps nothing from before tomorrow.

    Raises:
        ValueError: days is not an integer >= 0.
    """
    if isinstance(days, bool) or not isinstance(days, int):
        raise ValueError(f"days must be an integer >= 0, got {days!r}")
    if days < 0:
        raise ValueError(f"days must be >= 0, got {days}")
    today = (now or utc_now()).astimezone(timezone.utc).date()
    try:
        return datetime.combine(today, time(), timezone.utc) - timedelta(days=days - 1)
    except OverflowError:
        # Further back than 0001-01-01: no timestamp is older, so nothing is counted or deleted.
        return datetime.min.replace(tzinfo=timezone.utc)


def _ascii_lower(text: str) -> str:
    return text.translate(_ASCII_LOWER)


_ASCII_LOWER = MappingProxyType({code: code + 32 for code in range(ord("A"), ord("Z") + 1)})


def text_matches(needle: str, haystack: str) -> bool:
    """Case-insensitive containment, exactly as the SQLite adapter answers it.

    An ASCII needle is matched as SQLite's LIKE does (ASCII letters fold, nothing else); a needle with
    other characters is matched with Unicode case folding (the adapter registers this function).
    """
    if needle.isascii():
        return _ascii_lower(needle) in _ascii_lower(haystack)
    return needle.casefold() in haystack.casefold()


def like_pattern(needle: str) -> str:
    """A LIKE pattern (with ESCAPE '\\') matching `needle` anywhere, its wildcards taken literally."""
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def check_metric_version(metric_version: object) -> None:
    """Refuse a metric version that is not a positive integer (the column's CHECK would, less clearly)."""
    if isinstance(metric_version, bool) or not isinstance(metric_version, int) or metric_version < 1:
        raise RepositoryConstraintError(f"metric_version must be a positive integer, got {metric_version!r}")


def checked_score(record_id: int, quality: object, metric_version: object) -> tuple[int, float, int]:
    """One (id, quality, metric_version) for `update_quality`, validated.

    Raises:
        RepositoryConstraintError: the quality is not a number in [0, 1] or the version not a positive integer.
    """
    check_metric_version(metric_version)
    if isinstance(quality, bool) or not isinstance(quality, (int, float)) or not 0.0 <= quality <= 1.0:
        raise RepositoryConstraintError(f"quality must be a number in [0, 1], got {quality!r} for id {record_id}")
    return record_id, float(quality), metric_version


def check_window(start: datetime | None, end: datetime | None) -> None:
    """Raise ValueError unless each given bound is an aware datetime and start <= end when both are given."""
    if start is not None or end is not None:
        check_range(start or end, end or start)


def record_filters(
    mark: str, *, start: datetime | None = None, end: datetime | None = None, backend: BackendType | None = None,
    include_experiments: bool = True, stamp: Callable[[datetime], object] = lambda moment: moment,
) -> tuple[list[str], list]:
    """The SQL conditions (`mark` is the adapter's placeholder, `?` or `%s`) and their parameters for the
    filters both SQL adapters apply alike: start <= timestamp < end, one backend, no experiment runs unless
    `include_experiments`. `stamp` turns a bound into the stored form (SQLite: ISO-8601 text)."""
    where, params = [], []
    for condition, value in (("timestamp >= ", start), ("timestamp < ", end)):
        if value is not None:
            where.append(condition + mark)
            params.append(stamp(value))
    if backend is not None:
        where.append(f"backend = {mark}")
        params.append(backend.value)
    if not include_experiments:
        where.append("experiment_id IS NULL")
    return where, params
