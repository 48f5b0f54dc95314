"""`prompt-improver search-index`: build the full-text search index of an upgraded history, with progress.

Histories saved since the index exists (SQLite schema version 7, PostgreSQL's 5) are indexed as they are
written, and small upgraded ones when the store first opens; a large upgraded history is indexed here
(a million records: about a minute in SQLite; in PostgreSQL, with DATABASE_URL, the search column's
back-fill and then the GIN index, built CONCURRENTLY). Interrupting it (Ctrl-C, a kill) loses at most one
batch; running it again resumes.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from prompt_improver.errors import UsageError
from prompt_improver.progress import ProgressLine
from prompt_improver.settings import load_settings
from store.sqlite.migrations import migrate
from store.sqlite.search_index import DEFAULT_BATCH_ROWS, backfill



def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `search-index` to the `prompt-improver` parser."""
    command = subparsers.add_parser(
        "search-index", help="build (or resume building) the full-text search index of an upgraded history"
    )
    command.add_argument("--db", type=Path, metavar="PATH",
                         help="database file (default: DATABASE_URL when set, else SQLITE_DB_PATH)")
    command.add_argument("--batch", type=int, default=DEFAULT_BATCH_ROWS, metavar="N",
                         help=f"records per transaction (default {DEFAULT_BATCH_ROWS:,})")
    command.set_defaults(handler=run_search_index)


def run_search_index(args: argparse.Namespace) -> int:
    """Migrate the file, index every record not yet indexed, and say how long it took."""
    if args.batch < 1:
        raise UsageError(f"--batch must be at least 1, got {args.batch}")
    settings = load_settings(sqlite_db_path=args.db) if args.db is not None else load_settings()
    if args.db is None and settings.database_url:
        return _index_postgres(settings.database_url, args.batch, settings.database_timeout_s)
    migrate(settings.sqlite_db_path, wal=settings.sqlite_wal_mode, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    started = time.perf_counter()
    bar = ProgressLine(sys.stderr, "search index")
    state = backfill(
        settings.sqlite_db_path, batch_rows=args.batch, busy_timeout_ms=settings.sqlite_busy_timeout_ms,
        progress=lambda s: bar.show(s.fraction, f"records up to #{s.done:,} of #{s.end:,}"),
    )
    bar.close()
    elapsed = time.perf_counter() - started
    if state is None or bar.updates == 0:
        print(f"the search index of {settings.sqlite_db_path} is complete")
    else:
        print(f"indexed {settings.sqlite_db_path} for search in {elapsed:.1f} s")
    return 0


def _index_postgres(url: str, batch: int, timeout_s: float) -> int:
    from store.postgres.connection import mask_url
    from store.postgres.migrations import migrate as migrate_postgres
    from store.postgres.search_index import backfill as backfill_postgres

    migrate_postgres(url, timeout_s=timeout_s)
    started = time.perf_counter()
    bar = ProgressLine(sys.stderr, "search index")
    backfill_postgres(url, batch_rows=batch, timeout_s=timeout_s,
                      progress=lambda s: bar.show(s.fraction, f"records up to #{s.done:,} of #{s.end:,}"))
    bar.close()
    if bar.updates == 0:
        print(f"the search index of {mask_url(url)} is complete")
    else:
        print(f"indexed {mask_url(url)} for search in {time.perf_counter() - started:.1f} s")
    return 0
