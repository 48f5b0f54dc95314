"""The repository port: what the rest of the system may ask of prompt history. Standard library only."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

from store.record import BackendType, PromptHistory


@dataclass(frozen=True, slots=True)
class HistoryStatistics:
    """Aggregates over a time window (None bounds mean unbounded)."""

    total_count: int
    average_confidence: float | None
    average_latency_ms: float | None
    backend_distribution: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DatabaseHealth:
    """What `doctor` and the dashboard's health view show about the database file."""

    path: str
    file_bytes: int
    wal_bytes: int
    row_count: int
    schema_version: int
    journal_mode: str
    quick_check: str
    # Records whose text is not valid UTF-8 (written by another tool): read with U+FFFD in its place.
    invalid_text_ids: tuple[int, ...] = ()
    invalid_text_count: int = 0


@dataclass(frozen=True, slots=True)
class IndexProgress:
    """How far a search index's back-fill got (either adapter): old rows with `id <= done` are indexed, up to `end`."""

    done: int
    end: int

    def __post_init__(self) -> None:
        if self.done < 0 or self.end < 0:
            raise ValueError(f"back-fill marks must be >= 0, got done={self.done}, end={self.end}")

    @property
    def complete(self) -> bool:
        """True when every row is in the index."""
        return self.done >= self.end

    @property
    def fraction(self) -> float:
        """The share of the id range indexed, 0.0 to 1.0."""
        return 1.0 if self.complete else self.done / self.end


class PromptRepository(Protocol):
    """Stores and reads PromptHistory records.

    Ranges are inclusive of `start` and exclusive of `end`; both are aware datetimes (UTC).
    Listing methods return newest first.
    """

    def save(self, record: PromptHistory) -> PromptHistory:
        """Store one record and return it with its id. A record whose uid is already stored is not
        stored twice: the stored one is returned (this makes outbox replay exactly-once)."""
        ...

    def save_many(self, records: Iterable[PromptHistory], batch_size: int = 10_000) -> int:
        """Store records in transactions of `batch_size`; return how many were stored."""
        ...

    def update_quality(self, scores: Iterable[tuple[int, float, int]]) -> int:
        """Set (quality, metric_version) of each (id, quality, metric_version) in one transaction; return
        how many records changed. A changed score counts as a change below the analytics watermark."""
        ...

    def records_to_rescore(
        self, metric_version: int, *, after_id: int = 0, since: datetime | None = None, limit: int = 500
    ) -> list[PromptHistory]:
        """Up to `limit` records with id > `after_id` whose quality is not from `metric_version`, by id
        (records without a quality included)."""
        ...

    def count_to_rescore(self, metric_version: int, since: datetime | None = None) -> int:
        """How many records' quality is not from `metric_version` (from `since` on, when given)."""
        ...

    def get(self, record_id: int) -> PromptHistory | None:
        """The record with this id, or None."""
        ...

    def find_recent(
        self, limit: int = 100, offset: int = 0, backend: BackendType | None = None, include_experiments: bool = True
    ) -> list[PromptHistory]:
        """Newest first; without `include_experiments`, records of experiment runs are left out."""
        ...

    def find_by_date_range(
        self,
        start: datetime,
        end: datetime,
        backend: BackendType | None = None,
        limit: int = 100,
        offset: int = 0,
        include_experiments: bool = True,
    ) -> list[PromptHistory]:
        """Records with start <= timestamp < end, newest first (experiment runs too unless told otherwise)."""
        ...

    def search(
        self, text: str, limit: int = 100, offset: int = 0, backend: BackendType | None = None
    ) -> list[PromptHistory]:
        """Records whose idea or improved prompt contains `text` (case-insensitive), newest first."""
        ...

    def get_statistics(self, start: datetime | None = None, end: datetime | None = None) -> HistoryStatistics:
        """Totals and averages over the window."""
        ...

    def count_older_than(self, days: int) -> int:
        """How many records `delete_older_than(days)` would delete (a dry run)."""
        ...

    def delete_older_than(self, days: int, backup_to: Path | None = None) -> int:
        """Delete records older than `days` days; with `backup_to`, first write a consistent copy there."""
        ...

    def vacuum(self) -> None:
        """Reclaim the space of deleted rows."""
        ...

    def health(self) -> DatabaseHealth:
        """File sizes, row count, schema version, journal mode and quick_check result."""
        ...

    def get_setting(self, key: str) -> str | None:
        """A value from the database's app_settings table (shared by every session and the CLI)."""
        ...

    def set_setting(self, key: str, value: str) -> None:
        """Store a value in the app_settings table."""
        ...

