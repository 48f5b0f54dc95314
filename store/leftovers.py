"""Files written under a temporary name and renamed when complete, and the leftovers of killed writers.

A backup, a CSV report and an analytics snapshot are each written to `<target>.<pid>.tmp` and renamed to
`<target>` only when whole, so a killed process never leaves a file that passes for a good one (a
half-written backup opens as an empty database). What a killed writer leaves is removed the next time
a writer of the same target starts, and only when it is clearly stale:

- `<target>.<pid>.tmp` (and the `-journal`/`-wal`/`-shm`/`.wal` files SQLite or DuckDB keep beside it,
  and a large CSV export's `.partN` files)
  whose process no longer exists. A live writer's file is never touched: its pid answers `kill(pid, 0)`,
  including a concurrent process of another user (`EPERM`). A pid reused since only keeps a leftover
  longer, never removes a live file.
- `tmp_<target>`, the name DuckDB's own temporary CSV had before reports used the name above, when nothing
  has written to it for `LEGACY_STALE_AFTER_S` (a live export writes continuously).
"""

from __future__ import annotations

import logging
import os
import re
import time
from pathlib import Path

logger = logging.getLogger(__name__)

LEGACY_STALE_AFTER_S = 3600.0
_COMPANIONS = r"(?:-journal|-wal|-shm|\.wal|\.part\d+)?"  # .partN: a CSV export written in parts


def temporary_path(target: Path) -> Path:
    """The name this process writes `target` under until it is complete: `<target>.<pid>.tmp`."""
    return target.with_name(f"{target.name}.{os.getpid()}.tmp")


def process_exists(pid: int) -> bool:
    """Whether a process with this id exists (of any user)."""
    if pid <= 0:
        return True  # not a pid we wrote: never treat it as dead
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale(target: Path) -> list[Path]:
    """Remove the temporaries killed writers of `target` left beside it; return what was removed.

    Never raises for a file it cannot remove (logged): a leftover costs space, not correctness.
    """
    target = Path(target)
    pattern = re.compile(rf"{re.escape(target.name)}\.(\d+)\.tmp{_COMPANIONS}")
    legacy = f"tmp_{target.name}"
    removed = []
    try:
        entries = list(os.scandir(target.parent if str(target.parent) else "."))
    except OSError:
        return removed
    for entry in entries:
        match = pattern.fullmatch(entry.name)
        if match:
            stale = int(match.group(1)) != os.getpid() and not process_exists(int(match.group(1)))
        elif entry.name == legacy:
            stale = _unchanged_for(entry, LEGACY_STALE_AFTER_S)
        else:
            continue
        if stale and entry.is_file(follow_symlinks=False):
            try:
                os.unlink(entry.path)
            except OSError as error:
                logger.info("cannot remove the leftover %s: %s", entry.path, error)
                continue
            logger.info("removed %s, left by a writer that was killed", entry.path)
            removed.append(Path(entry.path))
    return removed


def _unchanged_for(entry: os.DirEntry, seconds: float) -> bool:
    try:
        return time.time() - entry.stat(follow_symlinks=False).st_mtime > seconds
    except OSError:
        return False


def publish(temporary: Path, target: Path) -> None:
    """Give the complete file `temporary` its name `target`, never replacing a file that appeared there.

    Raises:
        FileExistsError: `target` exists (`temporary` is left for the caller to remove).
    """
    try:
        os.link(temporary, target)  # fails if target exists: no check-then-rename race
    except FileExistsError:
        raise
    except OSError:  # a filesystem without hard links
        if target.exists():
            raise FileExistsError(target) from None
        os.replace(temporary, target)
        return
    os.unlink(temporary)
