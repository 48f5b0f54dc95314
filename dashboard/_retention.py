"""Retention for the Settings page: what a prune would delete, and the prune itself (backup, VACUUM)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

from store.query_rules import cutoff
from store.timestamps import utc_now

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True, slots=True)
class PrunePreview:
    """How many records are older than the window, the oldest one's date, and the cut-off date."""

    days: int
    count: int
    oldest: date | None
    cutoff: date

    def sentence(self) -> str:
        """The preview in words, e.g. "1,204 records from 2026-01-02 to 2026-10-27 would be deleted"."""
        if self.count == 0:
            return f"No record is older than {self.days:,} days (before {self.cutoff.isoformat()}): nothing would be deleted."
        oldest = self.oldest.isoformat() if self.oldest else "the oldest record"
        noun = "record" if self.count == 1 else "records"
        return f"{self.count:,} {noun} from {oldest} to {self.cutoff.isoformat()} would be deleted."


def preview(repo, days: int, now: datetime | None = None) -> PrunePreview:
    """What `delete_older_than(days)` would delete right now (a dry run through the repository)."""
    limit = cutoff(days, now)  # calendar days, today included: what the repository deletes
    count = repo.count_older_than(days)
    oldest = None
    if count:
        # Newest first, so the oldest doomed record is the last one of the range.
        rows = repo.find_by_date_range(EPOCH, limit, limit=1, offset=count - 1)
        oldest = rows[0].timestamp.date() if rows else None
    return PrunePreview(days, count, oldest, limit.date())


def backup_path(db_path: Path, now: datetime | None = None) -> Path:
    """Where a pre-prune backup goes: `<db dir>/backups/<db name>-YYYYmmddTHHMMSSZ.db`."""
    stamp = (now or utc_now()).strftime("%Y%m%dT%H%M%SZ")
    db_path = Path(db_path)
    return db_path.parent / "backups" / f"{db_path.stem}-{stamp}.db"


@dataclass(frozen=True, slots=True)
class PruneResult:
    """What a prune did."""

    deleted: int
    backup: Path | None
    vacuumed: bool


def prune(repo, db_path: Path, days: int, *, backup: bool, vacuum: bool) -> PruneResult:
    """Delete records older than `days` days, after an optional backup; optionally VACUUM afterwards.

    Raises:
        RepositoryError: the backup, the delete or the VACUUM failed (nothing is deleted if the backup fails).
    """
    target = None
    if backup:
        target = backup_path(db_path)
        target.parent.mkdir(parents=True, exist_ok=True)
    deleted = repo.delete_older_than(days, backup_to=target)
    if vacuum:
        repo.vacuum()
    return PruneResult(deleted, target, vacuum)
