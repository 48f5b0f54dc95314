"""The outbox: records the store could not take yet, kept in an append-only JSON-lines file until replayed.

Each line is one record's `to_dict()` plus an `"outbox"` key (why it was queued and when). Every append is
flushed and fsynced before `append` returns, and is written under a thread lock and an exclusive lock on a
sibling `.lock` file (the `filelock` package: `flock` on POSIX, `LockFileEx` on Windows), so concurrent sessions
and processes never interleave lines. The empty `.lock` file stays between appends: removing it on release
is what let two processes lock two different files, and it costs nothing to keep.

Replay saves each pending record through the repository, whose uid check returns an already-stored record
instead of inserting it again; so a crash between saving and rewriting the file replays nothing twice.
The file is then rewritten without the replayed records (temp file + fsync + `os.replace`).

A line that cannot be read back (a crash mid-write leaves a truncated last line) is never dropped: it is
moved to the `.corrupt` file beside the outbox and reported in the log.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from pipeline.errors import PipelineError
from store.errors import InvalidRecord, RepositoryConstraintError, RepositoryError
from store.record import PromptHistory
from store.repository import PromptRepository
from store.timestamps import from_iso, to_iso, utc_now

logger = logging.getLogger(__name__)

RECORD_KEYS = frozenset(PromptHistory.__dataclass_fields__) - {"id"}


class OutboxError(PipelineError):
    """The outbox file could not be written or read (disk full, no permission, a missing volume)."""


@dataclass(frozen=True, slots=True)
class _Line:
    text: str
    record: PromptHistory | None
    problem: str | None


def record_from_dict(data: dict) -> PromptHistory:
    """Rebuild a PromptHistory from `to_dict()` output (uid and timestamp kept, id dropped).

    Raises:
        InvalidRecord: if a field is missing or holds a value the record refuses.
    """
    missing = {"original_idea", "improved_prompt", "backend", "model_version", "uid", "timestamp"} - set(data)
    if missing:
        raise InvalidRecord(f"outbox line lacks {sorted(missing)}")
    fields = {key: value for key, value in data.items() if key in RECORD_KEYS}
    try:
        fields["timestamp"] = from_iso(str(fields["timestamp"]))
    except ValueError as error:
        raise InvalidRecord(f"timestamp {fields['timestamp']!r} is not ISO-8601: {error}") from None
    fields["guardrails"] = tuple(fields.get("guardrails") or ())
    return PromptHistory(**fields)


def _parse(text: str) -> _Line:
    try:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise InvalidRecord(f"expected a JSON object, got {type(data).__name__}")
        return _Line(text, record_from_dict(data), None)
    except (ValueError, TypeError) as error:  # JSONDecodeError and InvalidRecord are ValueErrors
        return _Line(text, None, str(error))


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Outbox:
    """An append-only, fsynced JSON-lines file of records waiting for the store.

    Args:
        path: the outbox file (`Settings.outbox_path`: beside the database). Its directory is created on
            the first append if missing.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.corrupt_path = self.path.with_name(self.path.name + ".corrupt")
        self._rewrite_path = self.path.with_name(self.path.name + ".tmp")
        self._thread_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Outbox({str(self.path)!r})"

    def files(self) -> tuple[Path, ...]:
        """The outbox and the files kept beside it (its lock, the lines set aside): none may be overwritten."""
        return (self.path, self.lock_path, self.corrupt_path)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        # A file lock conflicts between separate FileLock objects even inside one process; the thread lock
        # keeps threads of this process from even contending on the file.
        with self._thread_lock, ExitStack() as held:
            try:
                held.enter_context(FileLock(self.lock_path))
            except OSError as error:
                raise OutboxError(f"cannot open the outbox lock {self.lock_path}: {error}") from error
            # Only a holder of the lock writes the `.tmp`: one found now is a killed rewrite's.
            self._rewrite_path.unlink(missing_ok=True)
            yield

    def remove_leftovers(self) -> None:
        """Remove what a killed process left (a half-written `.tmp`); a composition root calls this at start.
        Waits for a live holder instead of touching its files (the kernel released a killed holder's lock).

        Raises:
            OutboxError: the lock cannot be opened (an unwritable directory).
        """
        if self._rewrite_path.exists():
            with self._locked():
                pass

    def append(self, record: PromptHistory, reason: str) -> None:
        """Add one record, durably (flush + fsync) before returning.

        Raises:
            OutboxError: if the file cannot be written, or the record cannot be written as UTF-8 JSON; the
                record is then not kept.
        """
        data = record.to_dict()
        data["id"] = None  # an id only means something in the database that assigned it
        data["outbox"] = {"reason": reason, "queued_at": to_iso(utc_now())}
        try:
            line = (json.dumps(data, ensure_ascii=False) + "\n").encode("utf-8")
        except (TypeError, ValueError) as error:  # e.g. a lone surrogate: UnicodeEncodeError is a ValueError
            raise OutboxError(f"cannot write record {record.uid} to the outbox {self.path}: {error}") from error
        with self._locked():
            try:
                created = not self.path.exists()
                with open(self.path, "ab") as handle:
                    # A crash mid-write can leave a last line without its newline: never glue onto it.
                    if handle.tell() > 0 and not self._ends_with_newline():
                        line = b"\n" + line
                    handle.write(line)
                    handle.flush()
                    os.fsync(handle.fileno())
                if created:
                    _fsync_dir(self.path.parent)
            except OSError as error:
                raise OutboxError(f"cannot append to the outbox {self.path}: {error}") from error
        logger.info("record %s kept in the outbox %s: %s", record.uid, self.path, reason)

    def _ends_with_newline(self) -> bool:
        with open(self.path, "rb") as handle:
            handle.seek(-1, os.SEEK_END)
            return handle.read(1) == b"\n"

    def _read_lines(self) -> list[_Line]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as error:
            raise OutboxError(f"cannot read the outbox {self.path}: {error}") from error
        texts = raw.decode("utf-8", errors="replace").split("\n")
        return [_parse(text) for text in texts if text.strip()]

    def _rewrite(self, lines: list[_Line]) -> None:
        """Replace the outbox with `lines`, atomically (a reader sees the old file or the new one)."""
        if not lines:
            if self.path.exists():
                self.path.unlink()
                _fsync_dir(self.path.parent)
            return
        temporary = self._rewrite_path
        with open(temporary, "wb") as handle:
            handle.write("".join(line.text + "\n" for line in lines).encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.path)
        _fsync_dir(self.path.parent)

    def _keep_aside(self, bad: list[_Line], why: str) -> None:
        with open(self.corrupt_path, "ab") as handle:
            for line in bad:
                entry = {"kept_at": to_iso(utc_now()), "why": why, "problem": line.problem, "line": line.text}
                handle.write((json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        logger.warning(
            "%d outbox line(s) could not be read back (%s); kept aside in %s", len(bad), why, self.corrupt_path
        )

    def _load(self) -> list[_Line]:
        """Readable lines; unreadable ones are moved to the `.corrupt` file first. Call under the lock."""
        lines = self._read_lines()
        bad = [line for line in lines if line.record is None]
        if bad:
            good = [line for line in lines if line.record is not None]
            try:
                self._keep_aside(bad, "unreadable line (truncated by a crash, or edited by hand)")
                self._rewrite(good)
            except OSError as error:
                raise OutboxError(f"cannot set aside corrupt outbox lines of {self.path}: {error}") from error
            return good
        return lines

    def pending(self) -> list[PromptHistory]:
        """The records waiting for the store, oldest first, with their original uid and timestamp.

        Raises:
            OutboxError: if the file cannot be read.
        """
        with self._locked():
            return [line.record for line in self._load() if line.record is not None]

    def count(self) -> int:
        """How many records are waiting (0 when there is no outbox file)."""
        if not self.path.exists():
            return 0
        return len(self.pending())

    def replay(self, repo: PromptRepository) -> int:
        """Save every pending record through `repo`, oldest first; remove the saved ones from the file.

        Stops at the first store failure and keeps that record and the rest for the next replay. A record
        the store refuses on a constraint would block the queue forever, so it is kept aside in the
        `.corrupt` file instead (never dropped).

        Returns:
            how many records are now in the store (already-stored uids count: they leave the outbox).

        Raises:
            OutboxError: if the outbox file cannot be read or rewritten.
        """
        with self._locked():
            lines = self._load()
            if not lines:
                return 0
            replayed = 0
            remaining: list[_Line] = []
            rejected: list[_Line] = []
            for index, line in enumerate(lines):
                assert line.record is not None  # _load returns readable lines only
                try:
                    repo.save(line.record)
                except RepositoryConstraintError as error:
                    rejected.append(_Line(line.text, None, str(error)))
                    continue
                except RepositoryError as error:  # the store failed (adapters translate their errors): try later
                    logger.warning(
                        "outbox replay stopped after %d record(s): %s; %d kept in %s",
                        replayed, error, len(lines) - index, self.path,
                    )
                    remaining = lines[index:]
                    break
                replayed += 1
            try:
                if rejected:
                    self._keep_aside(rejected, "refused by the store on a constraint")
                self._rewrite(remaining)
            except OSError as error:
                # The saved records are still in the file; their uids make the next replay skip them.
                raise OutboxError(f"cannot rewrite the outbox {self.path} after replay: {error}") from error
        if replayed:
            logger.info("replayed %d record(s) from the outbox %s", replayed, self.path)
        return replayed
