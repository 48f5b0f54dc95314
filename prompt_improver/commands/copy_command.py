"""`prompt-improver copy --from SRC --to DST`: move a history between an SQLite file and PostgreSQL."""

from __future__ import annotations

import argparse
import sys
import time

from prompt_improver.errors import UsageError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `copy` to the `prompt-improver` parser."""
    copy = subparsers.add_parser(
        "copy", help="copy a history between an SQLite file and PostgreSQL (resumable: matched by uid)"
    )
    copy.add_argument("--from", dest="source", required=True, metavar="SRC", help="an SQLite file or a postgresql:// URL")
    copy.add_argument("--to", dest="destination", required=True, metavar="DST", help="an SQLite file or a postgresql:// URL")
    copy.add_argument("--batch-size", type=int, default=5_000, metavar="N", help="records per transaction (default 5000)")
    copy.set_defaults(handler=run_copy)


def run_copy(args: argparse.Namespace) -> int:
    """Copy, drawing progress on a terminal; print what was copied and the verified counts."""
    from pathlib import Path

    from prompt_improver.history_copy import copy_history
    from prompt_improver.settings import load_settings
    from prompt_improver.wiring import open_location
    from store.postgres.urls import is_postgres_url, mask_url

    if not 1 <= args.batch_size <= 1_000_000:
        raise UsageError(f"--batch-size must be from 1 to 1,000,000, got {args.batch_size:,}")
    if args.source == args.destination:
        raise UsageError("--from and --to name the same history; name two different ones")
    if not is_postgres_url(args.source) and not Path(args.source).is_file():
        raise UsageError(f"--from {args.source!r} is neither an existing SQLite file nor a postgresql:// URL")
    settings = load_settings()
    source = open_location(args.source, settings)
    destination = open_location(args.destination, settings)
    total = source.health().row_count
    started = time.perf_counter()

    def progress(done: int) -> None:
        if sys.stderr.isatty():
            share = done / total if total else 1.0
            sys.stderr.write(f"\r[{'#' * int(share * 30):<30}] {share:6.1%} {done:,}/{total:,}")
            sys.stderr.flush()

    try:
        report = copy_history(source, destination, batch_size=args.batch_size, progress=progress)
    finally:
        if sys.stderr.isatty():
            sys.stderr.write("\n")
        source.close()
        destination.close()
    elapsed = time.perf_counter() - started
    shown = mask_url(args.destination) if is_postgres_url(args.destination) else args.destination
    print(
        f"copied {report.copied:,} records to {shown} ({report.already_there:,} were already there) in {elapsed:.1f} s; "
        f"verified: the source holds {report.source_rows:,}, the destination {report.destination_rows:,}"
    )
    return 0
