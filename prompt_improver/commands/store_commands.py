"""Store commands: `doctor`, `history`, `prune` and `demo-data`.

Every command reads the database path from settings (`SQLITE_DB_PATH`) unless `--db PATH` is given.
No heavy imports here (doctor checks DuckDB in a subprocess; pandas and DSPy are not needed).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import closing
from datetime import datetime, timezone
from pathlib import Path
from typing import TextIO

from prompt_improver.dates import LATEST, parse_range
from prompt_improver.errors import UsageError
from prompt_improver.commands.doctor import format_size, run_doctor
from prompt_improver.settings import Settings, load_settings
from prompt_improver.terminal import json_text, printable
from prompt_improver.stored_settings import StoredSettings
from prompt_improver.wiring import open_repository
from prompt_improver.demo import DEMO_MODEL_VERSION, MAX_DAYS, generate_demo_records
from store.query_rules import MAX_INTEGER
from store.query_rules import cutoff as cutoff_for
from store.record import BackendType, PromptHistory
from store.sqlite.connection import connect, translate_errors

EARLIEST = datetime(1, 1, 1, tzinfo=timezone.utc)
# About 40 minutes of writing at the measured rate, and a few GB of file: a bigger number is a typo.
MAX_DEMO_ROWS = 100_000_000


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the store's sub-commands to the `prompt-improver` parser."""
    doctor = subparsers.add_parser(
        "doctor", help="check settings, the database, the outbox, DuckDB's sqlite extension and the model"
    )
    _add_db_option(doctor)
    doctor.set_defaults(handler=_doctor)

    history = subparsers.add_parser("history", help="list stored improvements, newest first")
    history.add_argument("--limit", type=int, default=20, metavar="N", help="how many records (default 20)")
    history.add_argument("--backend", metavar="B", help="only 'zero-shot' or 'few-shot' records")
    history.add_argument("--since", metavar="DATE", help="from this UTC date or timestamp on (inclusive)")
    history.add_argument(
        "--until", metavar="DATE", help="up to this UTC date or timestamp (inclusive; a bare date covers the whole day)"
    )
    history.add_argument("--json", action="store_true", help="print a JSON array of records")
    add_include_experiments(history)
    _add_db_option(history)
    history.set_defaults(handler=run_history)

    prune = subparsers.add_parser("prune", help="delete records older than N days")
    prune.add_argument(
        "--older-than-days", type=int, metavar="N", dest="older_than_days",
        help="keep the last N days (default: the retention stored from the dashboard's Settings page, "
        "else SQLITE_RETENTION_DAYS)",
    )
    prune.add_argument("--dry-run", action="store_true", help="only count what would be deleted")
    prune.add_argument("--backup", type=Path, metavar="PATH", help="first write a consistent copy of the database here")
    prune.add_argument("--vacuum", action="store_true", help="reclaim the freed space afterwards")
    _add_db_option(prune)
    prune.set_defaults(handler=run_prune)

    demo = subparsers.add_parser("demo-data", help="write realistic synthetic history for trying the dashboard")
    demo.add_argument("--rows", type=int, required=True, metavar="N", help="how many records")
    demo.add_argument("--days", type=int, default=90, metavar="D", help="spread over the last D days: D calendar days in UTC, today included (default 90)")
    demo.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (default 0)")
    demo.add_argument(
        "--force", action="store_true", help="add demo rows even if the database holds real (non-demo) history"
    )
    _add_db_option(demo)
    demo.set_defaults(handler=run_demo_data)


def add_include_experiments(parser: argparse.ArgumentParser) -> None:
    """`--include-experiments`: records of `compare` runs are left out of history, stats and export by default."""
    parser.add_argument(
        "--include-experiments", action="store_true", dest="include_experiments",
        help="also list the records of experiment runs (`compare`), which are left out by default",
    )


def _add_db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", type=Path, metavar="PATH", help="database file (default: SQLITE_DB_PATH)")


def _settings(args: argparse.Namespace) -> Settings:
    # --db names an SQLite file, which wins over DATABASE_URL.
    return load_settings(sqlite_db_path=args.db, database_url=None) if args.db is not None else load_settings()


def _doctor(args: argparse.Namespace) -> int:
    return run_doctor(_settings(args))


# --------------------------------------------------------------------------------------------- history


def run_history(args: argparse.Namespace) -> int:
    """Print stored records newest first, as a table or (with --json) a JSON array."""
    if not 1 <= args.limit <= MAX_INTEGER:
        raise UsageError(f"--limit must be from 1 to {MAX_INTEGER:,}, got {args.limit:,}")
    backend = _parse_backend(args.backend)
    since, until = parse_range(args.since, args.until)
    start = since.moment if since is not None else None
    end = until.exclusive_end() if until is not None else None
    repo = open_repository(_settings(args))
    scope = {"include_experiments": args.include_experiments}
    if start is None and end is None:
        records = repo.find_recent(limit=args.limit, backend=backend, **scope)
    else:
        records = repo.find_by_date_range(start or EARLIEST, end or LATEST, backend=backend, limit=args.limit, **scope)
    try:
        if args.json:
            print(json_text([record.to_dict() for record in records], indent=2))
        else:
            _print_table(records)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader stopped early (`history | head`): what it read is what it wanted. Point stdout at
        # /dev/null so the interpreter's final flush does not raise again at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def _parse_backend(value: str | None) -> BackendType | None:
    if value is None:
        return None
    try:
        return BackendType.parse(value)
    except ValueError:
        raise UsageError(f"--backend: {value!r} is not a backend; use 'zero-shot' or 'few-shot'") from None


def _print_table(records: list[PromptHistory]) -> None:
    if not records:
        print("no records")
        return
    header = (
        f"{'id':>7}  {'timestamp (UTC)':<19}  {'backend':<9}  {'conf':>5}  {'qual':>5}  {'latency':>8}  "
        f"{'framework':<16}  idea"
    )
    idea_width = max(20, shutil.get_terminal_size((120, 24)).columns - len(header) + 4)
    print(header)
    for record in records:
        idea = " ".join(printable(record.original_idea).split())  # no escape sequence reaches the terminal
        if len(idea) > idea_width:
            idea = idea[: idea_width - 1] + "…"
        framework = " ".join(printable(record.framework).split())[:16]
        print(
            f"{record.id if record.id is not None else '-':>7}  "
            f"{record.timestamp.strftime('%Y-%m-%d %H:%M:%S'):<19}  "
            f"{record.backend.value:<9}  {_number(record.confidence):>5}  {_number(record.quality):>5}  "
            f"{_latency(record.latency_ms):>8}  {framework:<16}  {idea}"
        )
    print(f"{len(records)} record(s), newest first")


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _latency(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.0f} ms" if value < 1000 else f"{value / 1000:.1f} s"


# ----------------------------------------------------------------------------------------------- prune


def run_prune(args: argparse.Namespace) -> int:
    """Delete (or with --dry-run, count) records older than N days; optionally back up first and vacuum."""
    days = args.older_than_days
    if days is not None and days < 1:
        raise UsageError(f"--older-than-days must be at least 1, got {days}")
    backup: Path | None = args.backup
    if backup is not None and not args.dry_run:
        if backup.exists():
            raise UsageError(f"--backup: {str(backup)!r} already exists; choose a new file name")
        try:
            backup.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise UsageError(
                f"--backup: cannot create the directory {str(backup.parent)!r}: {error.strerror}"
            ) from None
    settings = _settings(args)
    repo = open_repository(settings)
    if days is None:  # the value every dashboard session sees (stored in the database), so both agree
        days = StoredSettings.load(repo, settings).retention_days
    cutoff = cutoff_for(days).isoformat(timespec="seconds")
    if args.dry_run:
        count = repo.count_older_than(days)
        ignored = " (--backup and --vacuum do nothing in a dry run)" if backup is not None or args.vacuum else ""
        print(f"would delete {count:,} records older than {cutoff} ({days} days); nothing was changed{ignored}")
        return 0
    deleted = repo.delete_older_than(days, backup_to=backup)
    print(f"deleted {deleted:,} records older than {cutoff} ({days} days)")
    if backup is not None:
        print(f"backup of the database before pruning: {backup}")
    if args.vacuum:
        before = repo.health().file_bytes
        repo.vacuum()
        after = repo.health().file_bytes
        print(f"vacuumed: file size {format_size(before)} -> {format_size(after)}")
    return 0


# ------------------------------------------------------------------------------------------- demo-data


def run_demo_data(args: argparse.Namespace) -> int:
    """Write synthetic history through `save_many`, refusing to mix it into a real history."""
    if not 1 <= args.rows <= MAX_DEMO_ROWS:
        raise UsageError(f"--rows must be from 1 to {MAX_DEMO_ROWS:,}, got {args.rows:,}")
    if not 1 <= args.days <= MAX_DAYS:
        raise UsageError(f"--days must be from 1 to {MAX_DAYS:,}, got {args.days}")
    settings = _settings(args)
    repo = open_repository(settings)
    path = repo.db_path  # the file, or the PostgreSQL URL with its password masked
    real = _count_non_demo_records(settings, repo)
    if real and not args.force:
        raise UsageError(
            f"{path} holds {real:,} records that are not demo data, and demo rows would mix with that history; "
            "write them to another file with --db data/demo.db, or pass --force to add them anyway"
        )
    started = time.perf_counter()
    records = generate_demo_records(args.rows, days=args.days, seed=args.seed)
    with closing(_progress(records, args.rows, sys.stderr)) as shown:
        written = repo.save_many(shown)
    elapsed = time.perf_counter() - started
    rate = written / elapsed if elapsed > 0 else 0.0
    print(
        f"wrote {written:,} demo records ({args.days} days, seed {args.seed}) to {path} "
        f"in {elapsed:.1f} s ({rate:,.0f} records/s)"
    )
    return 0


def _count_non_demo_records(settings: Settings, repo) -> int:
    # A look straight at the table: the repository port has no "count by model" query, and this
    # check belongs to this command alone.
    if settings.database_url:
        with repo.transaction() as conn:
            return int(conn.execute(
                "SELECT count(*) FROM prompt_history WHERE model_version <> %s", (DEMO_MODEL_VERSION,)
            ).fetchone()[0])
    path = settings.sqlite_db_path
    with translate_errors(path), closing(connect(path, settings.sqlite_busy_timeout_ms)) as conn:
        (count,) = conn.execute(
            "SELECT count(*) FROM prompt_history WHERE model_version <> ?", (DEMO_MODEL_VERSION,)
        ).fetchone()
    return int(count)


def _progress(records: Iterable[PromptHistory], total: int, stream: TextIO) -> Iterator[PromptHistory]:
    """Yield `records`, drawing a progress bar on `stream` only if it is a terminal."""
    if not stream.isatty():
        yield from records
        return
    started = time.perf_counter()
    every = max(1, total // 200)
    width = 30
    try:
        for done, record in enumerate(records, start=1):
            yield record
            if done % every == 0 or done == total:
                share = done / total
                filled = int(share * width)
                elapsed = time.perf_counter() - started
                stream.write(
                    f"\r[{'#' * filled}{'.' * (width - filled)}] {share:6.1%} {done:,}/{total:,} {elapsed:5.1f} s"
                )
                stream.flush()
    finally:
        stream.write("\n")  # an error message after the bar starts on its own line
        stream.flush()
