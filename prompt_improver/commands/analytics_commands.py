"""Analytics commands: `stats` (KPIs) and `export` (CSV reports).

They run DuckDB in this process through `store.analytics.engine.Analytics`: the CLI never opens the database
through `sqlite3` for these commands, so only one copy of SQLite touches the file here, and skipping the
worker process saves its start-up. DuckDB is imported inside the handlers, so other commands do not
pay for it. Dates are UTC days, both ends inclusive.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from prompt_improver.dates import parse_range
from prompt_improver.errors import UsageError
from prompt_improver.commands.store_commands import add_include_experiments
from prompt_improver.output_guard import refuse_history_target
from prompt_improver.progress import ProgressLine
from prompt_improver.settings import not_utf8

if TYPE_CHECKING:
    from prompt_improver.settings import Settings



def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `stats` and `export` to the `prompt-improver` parser."""
    stats = subparsers.add_parser("stats", help="KPIs of the history: counts, confidence, quality, latency")
    _add_filters(stats)
    stats.add_argument("--model", metavar="M", help="only records of this model_version")
    stats.add_argument("--json", action="store_true", help="print the statistics as JSON")
    stats.set_defaults(handler=run_stats)

    export = subparsers.add_parser("export", help="write the records (or a per-day summary) of a range as CSV")
    _add_filters(export)
    export.add_argument("--model", metavar="M", help="only records of this model_version")
    export.add_argument("--summary", action="store_true", help="per day x backend aggregates instead of records")
    export.add_argument("-o", "--output", required=True, metavar="FILE", help="the file to write")
    export.add_argument("--format", choices=("csv", "parquet"), default="csv", dest="file_format",
                        help="csv (default; spreadsheet-safe) or parquet (typed, for pandas/DuckDB/Polars)")
    export.set_defaults(handler=run_export)


def _add_filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--since", metavar="DATE", help="from this UTC date or timestamp on (inclusive)")
    parser.add_argument(
        "--until", metavar="DATE", help="up to this UTC date or timestamp (inclusive; a bare date covers the whole day)"
    )
    parser.add_argument("--backend", metavar="B", help="only 'zero-shot' or 'few-shot' records")
    parser.add_argument("--db", metavar="PATH", help="the database file (default: SQLITE_DB_PATH)")
    add_include_experiments(parser)


def _filters(args: argparse.Namespace) -> dict:
    from store.record import BackendType

    since, until = parse_range(args.since, args.until)  # the same forms as `history`
    start = since.for_analytics() if since is not None else None
    end = until.for_analytics() if until is not None else None
    backend = None
    if args.backend:
        try:
            backend = BackendType.parse(args.backend).value
        except ValueError:
            raise UsageError(f"--backend {args.backend!r} is not a backend; use zero-shot or few-shot") from None
    return {
        "start": start, "end": end, "backend": backend, "model": args.model or None,
        "include_experiments": args.include_experiments,
    }


def _settings(args: argparse.Namespace) -> Settings:
    # Settings are loaded (and so validated) even with --db, as every other command does: an invalid
    # setting stops each command at start, naming it.
    from prompt_improver.settings import load_settings

    if args.db is not None:  # `--db ''` names the current directory (refused as such), not the default file
        return load_settings(sqlite_db_path=Path(args.db), database_url=None)  # an SQLite file wins over DATABASE_URL
    return load_settings()


def _db_path(args: argparse.Namespace) -> Path | str:
    from prompt_improver.wiring import history_location

    return history_location(_settings(args))  # DATABASE_URL when set, else the SQLite file


def run_stats(args: argparse.Namespace) -> int:
    """Print the KPIs of the range (as JSON with `--json`)."""
    filters = _filters(args)
    from store.analytics.engine import Analytics

    with Analytics(_db_path(args)) as analytics:
        stats = analytics.statistics(
            filters["start"], filters["end"], backend=filters["backend"], model=filters["model"],
            include_experiments=filters["include_experiments"],
        )
        print(json.dumps(rounded(stats), indent=2) if args.json else format_stats(stats), flush=True)
        analytics.housekeeping()  # after the answer is out: keeps the next run fast on a large history
    return 0


def rounded(value: object, key: str = "") -> object:
    """`value` (the statistics, nested) with floats at the reports' precision: no `7605.259999999995`."""
    from store.analytics.reports import LATENCY_DECIMALS, SCORE_DECIMALS

    if isinstance(value, dict):
        return {name: rounded(item, name) for name, item in value.items()}
    if isinstance(value, float):
        return round(value, LATENCY_DECIMALS if "latency" in key else SCORE_DECIMALS)
    return value


def format_stats(stats: dict) -> str:
    """The statistics as a small aligned table: overall, then one column per backend."""
    if stats["start"] is None:
        return "no records yet"
    columns = [("all", stats)] + [(name, values) for name, values in stats["by_backend"].items()]
    rows = [
        ("records", lambda s: f"{s.get('total_count', s.get('count', 0)):,}"),
        ("avg confidence", lambda s: _fmt(s["average_confidence"], "{:.3f}")),
        ("avg quality", lambda s: _fmt(s["average_quality"], "{:.3f}")),
        ("avg latency", lambda s: _fmt(s["average_latency_ms"], "{:,.0f} ms")),
        ("p50 latency", lambda s: _fmt(s["p50_latency_ms"], "{:,.0f} ms")),
        ("p95 latency", lambda s: _fmt(s["p95_latency_ms"], "{:,.0f} ms")),
    ]
    lines = [f"{stats['start']} .. {stats['end']} (UTC, inclusive)"]
    lines.append(f"{'':16}" + "".join(f"{name:>14}" for name, _ in columns))
    for label, show in rows:
        lines.append(f"{label:16}" + "".join(f"{show(values):>14}" for _, values in columns))
    return "\n".join(lines)


def _fmt(value: float | None, pattern: str) -> str:
    return "-" if value is None else pattern.format(value)


def run_export(args: argparse.Namespace) -> int:
    """Write the CSV report and print how many rows it holds."""
    filters = _filters(args)
    output = Path(args.output)
    shown = not_utf8(args.output)
    if shown is not None:
        raise UsageError(f"-o '{shown}' is not a valid UTF-8 file name, which DuckDB cannot write; name a UTF-8 file")
    if output.is_dir():
        raise UsageError(f"-o {output} is a directory; name a file")
    if not output.absolute().parent.is_dir():
        raise UsageError(f"-o {output}: the directory {output.absolute().parent} does not exist")
    settings = _settings(args)
    db_path = settings.sqlite_db_path
    refuse_history_target("-o", output, db_path, settings.outbox_path, "the CSV")
    from store.analytics.engine import Analytics

    if args.summary and args.file_format != "csv":
        raise UsageError("--summary writes CSV only; drop --format parquet, or export the records as Parquet")
    from prompt_improver.wiring import history_location

    with Analytics(history_location(settings)) as analytics:
        span = dict(backend=filters["backend"], model=filters["model"], include_experiments=filters["include_experiments"])
        if args.summary:
            rows = analytics.export_summary(output, filters["start"], filters["end"], **span)
        else:
            bar = ProgressLine(sys.stderr, f"export {args.file_format}")
            rows = analytics.export_records(
                output, filters["start"], filters["end"], file_format=args.file_format,
                progress=lambda share, done: bar.show(share, f"{done:,} rows"), **span,
            )
            bar.close()
        print(f"{rows} rows written to {output}", flush=True)
        analytics.housekeeping()
    return 0

