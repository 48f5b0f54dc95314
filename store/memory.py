"""An in-memory PromptRepository: the fake for tests of code that depends on the port.

It answers exactly as the SQLite adapter does (the contract tests run against both): ids from 1, a uid
stored once, newest first by (timestamp, id), the same text matching and argument checks. Thread-safe.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from itertools import islice
from pathlib import Path

from store.errors import RepositoryConnectionError, RepositoryConstraintError
from store.query_rules import (
    RecordFilter,
    check_metric_version,
    check_page,
    checked_score,
    cutoff,
)
from store.record import BackendType, PromptHistory
from store.repository import DatabaseHealth, HistoryStatistics


def _newest_first(record: PromptHistory) -> tuple:
    return (record.timestamp, record.id)


class InMemoryPromptRepository:
    """Prompt history in a dict, guarded by a lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: dict[int, PromptHistory] = {}
        self._ids_by_uid: dict[str, int] = {}
        self._last_id = 0
        self._settings: dict[str, str] = {"prune_generation": "0"}

    def _insert(self, record: PromptHistory) -> tuple[PromptHistory, bool]:
        existing = self._ids_by_uid.get(record.uid)
        if existing is not None:
            return self._records[existing], False
        self._last_id += 1
        stored = replace(record, id=self._last_id)
        self._records[stored.id] = stored
        self._ids_by_uid[stored.uid] = stored.id
        return stored, True

    def save(self, record: PromptHistory) -> PromptHistory:
        """Store one record and return it with its id; a uid already stored returns the stored record."""
        with self._lock:
            return self._insert(record)[0]

    def save_many(self, records: Iterable[PromptHistory], batch_size: int = 10_000) -> int:
        """Store records in batches; return how many were new."""
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
        iterator = iter(records)
        stored = 0
        while batch := list(islice(iterator, batch_size)):
            with self._lock:
                stored += sum(self._insert(record)[1] for record in batch)
        return stored

    def update_quality(self, scores: Iterable[tuple[int, float, int]]) -> int:
        """Set (quality, metric_version) of each (id, quality, metric_version); return how many changed."""
        changes = [checked_score(*score) for score in scores]
        with self._lock:
            changed = 0
            for record_id, quality, version in changes:
                if record_id in self._records:
                    self._records[record_id] = replace(self._records[record_id], quality=quality, metric_version=version)
                    changed += 1
            if changed:
                self._settings["prune_generation"] = str(int(self._settings["prune_generation"]) + 1)
        return changed

    def _stale(self, metric_version: int, since: datetime | None) -> list[PromptHistory]:
        check_metric_version(metric_version)
        with self._lock:
            return sorted(
                (r for r in self._records.values()
                 if r.metric_version != metric_version and (since is None or r.timestamp >= since)),
                key=lambda r: r.id,
            )

    def records_to_rescore(
        self, metric_version: int, *, after_id: int = 0, since: datetime | None = None, limit: int = 500
    ) -> list[PromptHistory]:
        """Up to `limit` records with id > `after_id` whose quality is not from `metric_version`, by id."""
        check_page(limit, 0)
        return [r for r in self._stale(metric_version, since) if r.id > after_id][:limit]

    def count_to_rescore(self, metric_version: int, since: datetime | None = None) -> int:
        """How many records' quality is not from `metric_version` (from `since` on, when given)."""
        return len(self._stale(metric_version, since))

    def get(self, record_id: int) -> PromptHistory | None:
        """The record with this id, or None."""
        with self._lock:
            return self._records.get(record_id)

    def _page(self, keep: RecordFilter, limit: int, offset: int) -> list[PromptHistory]:
        check_page(limit, offset)
        with self._lock:
            matching = [record for record in self._records.values() if keep.keeps(record)]
        matching.sort(key=_newest_first, reverse=True)
        return matching[offset : offset + limit]

    def find_recent(
        self, limit: int = 100, offset: int = 0, backend: BackendType | str | None = None,
        include_experiments: bool = True,
    ) -> list[PromptHistory]:
        """Newest first (by timestamp, then id); experiment runs left out unless `include_experiments`."""
        return self._page(RecordFilter.of(backend=backend, include_experiments=include_experiments), limit, offset)

    def find_by_date_range(
        self,
        start: datetime,
        end: datetime,
        backend: BackendType | str | None = None,
        limit: int = 100,
        offset: int = 0,
        include_experiments: bool = True,
    ) -> list[PromptHistory]:
        """Records with start <= timestamp < end, newest first; experiment runs too unless told otherwise."""
        keep = RecordFilter.of(start=start, end=end, backend=backend, include_experiments=include_experiments)
        return self._page(keep, limit, offset)

    def search(
        self, text: str, limit: int = 100, offset: int = 0, backend: BackendType | str | None = None
    ) -> list[PromptHistory]:
        """Records whose idea or improved prompt contains `text`, case-insensitively, newest first."""
        return self._page(RecordFilter.matching(text, backend), limit, offset)

    def get_statistics(self, start: datetime | None = None, end: datetime | None = None) -> HistoryStatistics:
        """Count, average confidence and latency, and records per backend (both keys always present)."""
        keep = RecordFilter.of(start=start, end=end)
        with self._lock:
            window = [record for record in self._records.values() if keep.keeps(record)]
        confidences = [r.confidence for r in window if r.confidence is not None]
        latencies = [r.latency_ms for r in window if r.latency_ms is not None]
        distribution = {member.value: 0 for member in BackendType}
        for record in window:
            distribution[record.backend.value] += 1
        return HistoryStatistics(
            total_count=len(window),
            average_confidence=sum(confidences) / len(confidences) if confidences else None,
            average_latency_ms=sum(latencies) / len(latencies) if latencies else None,
            backend_distribution=distribution,
        )

    def count_older_than(self, days: int) -> int:
        """How many records `delete_older_than(days)` would delete now."""
        limit = cutoff(days)
        with self._lock:
            return sum(record.timestamp < limit for record in self._records.values())

    def delete_older_than(
        self, days: int, backup_to: Path | None = None, *, rebuild_fraction: float = 0.5
    ) -> int:
        """Delete records older than `days` days; with `backup_to`, first write them all as JSON lines.

        `rebuild_fraction` is accepted for the SQLite adapter's signature; memory has one strategy.
        """
        limit = cutoff(days)
        with self._lock:
            if backup_to is not None:
                target = Path(backup_to)
                if target.exists():
                    raise RepositoryConnectionError(
                        f"backup target {target} already exists; choose a new file name (backups are never overwritten)"
                    )
                target.parent.mkdir(parents=True, exist_ok=True)
                lines = (json.dumps(record.to_dict(), ensure_ascii=False) + "\n" for record in self._records.values())
                target.write_text("".join(lines), encoding="utf-8")
            doomed = [record_id for record_id, record in self._records.items() if record.timestamp < limit]
            for record_id in doomed:
                del self._ids_by_uid[self._records.pop(record_id).uid]
            if doomed:
                self._settings["prune_generation"] = str(int(self._settings["prune_generation"]) + 1)
        return len(doomed)

    def vacuum(self) -> None:
        """Nothing to reclaim in memory."""

    def health(self) -> DatabaseHealth:
        """A healthy in-memory 'file'."""
        with self._lock:
            rows = len(self._records)
        return DatabaseHealth(
            path=":memory:", file_bytes=0, wal_bytes=0, row_count=rows, schema_version=0,  # no schema to migrate
            journal_mode="memory", quick_check="ok",
        )

    def get_setting(self, key: str) -> str | None:
        """A stored setting, or None."""
        with self._lock:
            return self._settings.get(key)

    def set_setting(self, key: str, value: str) -> None:
        """Store a text setting; a key or value that is not text is a constraint error, as in SQLite."""
        for name, item in (("key", key), ("value", value)):
            if not isinstance(item, str):
                raise RepositoryConstraintError(
                    f"setting {name} must be text, got {type(item).__name__} {item!r}"
                )
        with self._lock:
            self._settings[key] = value
