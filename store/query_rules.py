"""Query semantics both repository implementations share: argument checks, filters, text matching, cut-offs.

Keeping them in one place is what lets the contract tests hold the SQLite adapter and the in-memory
fake to exactly the same answers. Standard library only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from types import MappingProxyType

from store.errors import RepositoryConstraintError
from store.record import BackendType, PromptHistory
from store.repository import HistoryStatistics
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


@dataclass(frozen=True, slots=True)
class RecordFilter:
    """Which records a listing keeps (`find_recent`, `find_by_date_range`, `search`), checked once and read
    by each adapter: as SQL conditions (`where`) or as a predicate over records (`keeps`).

    Build it with `RecordFilter.of(...)`, which validates the arguments and parses the backend.
    """

    backend: BackendType | None = None
    start: datetime | None = None  # start <= timestamp (from the beginning when None)
    end: datetime | None = None  # timestamp < end (to the last record when None)
    include_experiments: bool = True
    text: str | None = None  # the idea or the improved prompt contains it (see `text_matches`)

    @classmethod
    def of(
        cls, *, backend: BackendType | str | None = None, start: datetime | None = None,
        end: datetime | None = None, include_experiments: bool = True, text: str | None = None,
    ) -> RecordFilter:
        """The filter for these arguments.

        Raises:
            ValueError: a bound is not an aware datetime, start > end, or the text is not a string.
            InvalidRecord: the backend is not one of BackendType.
        """
        if start is not None:
            check_range(start, end or start)
        if end is not None:
            check_range(start or end, end)
        if text is not None and not isinstance(text, str):
            raise ValueError(f"search text must be a string, got {text!r}")
        return cls(parse_backend(backend), start, end, bool(include_experiments), text)

    @classmethod
    def matching(cls, text: str, backend: BackendType | str | None = None) -> RecordFilter:
        """The filter of `search(text, backend=...)`; ValueError unless `text` is a string (None included)."""
        if not isinstance(text, str):
            raise ValueError(f"search text must be a string, got {text!r}")
        return cls.of(backend=backend, text=text)

    def where(
        self, placeholder: str, timestamp: Callable[[datetime], object] = lambda moment: moment
    ) -> tuple[list[str], list]:
        """SQL conditions (to join with AND) and their parameters for everything but the text, which each
        adapter matches its own way. `timestamp` turns a bound into the stored form (SQLite: ISO-8601 text;
        the default passes the datetime on, as PostgreSQL's driver binds it)."""
        where, params = [], []
        for bound, condition in ((self.start, "timestamp >= "), (self.end, "timestamp < ")):
            if bound is not None:
                where.append(condition + placeholder)
                params.append(timestamp(bound))
        if self.backend is not None:
            where.append(f"backend = {placeholder}")
            params.append(self.backend.value)
        if not self.include_experiments:
            where.append("experiment_id IS NULL")
        return where, params

    def keeps(self, record: PromptHistory) -> bool:
        """Whether `record` passes the filter (what the SQL conditions and the adapter's text match select)."""
        return (
            (self.start is None or self.start <= record.timestamp)
            and (self.end is None or record.timestamp < self.end)
            and (self.backend is None or record.backend == self.backend)
            and (self.include_experiments or record.experiment_id is None)
            and (self.text is None or text_matches(self.text, record.original_idea)
                 or text_matches(self.text, record.improved_prompt))
        )


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


def history_statistics(conn, where: list[str], params: list) -> HistoryStatistics:
    """`get_statistics` of the SQL adapters: count, average confidence and latency, and records per backend
    (both keys always present) of the rows matching `where` (conditions joined with AND), on a DB-API
    connection (sqlite3 or psycopg: the SQL is the same)."""
    clause = (" WHERE " + " AND ".join(where)) if where else ""
    total, confidence, latency = conn.execute(
        f"SELECT count(*), avg(confidence), avg(latency_ms) FROM prompt_history{clause}", params
    ).fetchone()
    per_backend = conn.execute(f"SELECT backend, count(*) FROM prompt_history{clause} GROUP BY backend", params).fetchall()
    distribution = {member.value: 0 for member in BackendType}
    distribution.update(dict(per_backend))
    return HistoryStatistics(total, confidence, latency, distribution)
