"""An exclusive lock between processes: `fcntl.flock` on a sibling `.lock` file its holder removes.

Removing the lock file on release leaves nothing behind (a killed holder's file is removed by the next
holder: the kernel released its lock). That is only safe because every taker checks, once it holds the
flock, that the file it locked is still the one at the path; if a holder removed it meanwhile, the taker
starts again on a new file, so two processes never hold locks on different files at once.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

logger = logging.getLogger(__name__)


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path` (created if missing, with its directory) for the block.

    Raises:
        OSError: the lock file cannot be created or opened.
    """
    handle = _take(path)
    try:
        yield
    finally:
        try:
            path.unlink(missing_ok=True)  # while still held: see the module docstring
        except OSError as error:
            logger.debug("cannot remove the lock file %s: %s", path, error)
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        handle.close()


def _take(path: Path) -> BinaryIO:
    while True:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a+b")  # noqa: SIM115 - closed by `file_lock`, after unlocking
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        held = os.fstat(handle.fileno())
        try:
            current = os.stat(path)
        except FileNotFoundError:
            current = None
        if current is not None and (current.st_dev, current.st_ino) == (held.st_dev, held.st_ino):
            return handle
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)  # the holder before us removed it: start again
        handle.close()
