"""Quality commands: `score` (audit the metric on JSON Lines) and `rescore` (bring stored scores up to date).

Importing this module imports neither DSPy nor the store's adapters; the handlers import what they use.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from prompt_improver.errors import UsageError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `score` and `rescore` to the `prompt-improver` parser."""
    score = subparsers.add_parser(
        "score",
        help="score improvements read as JSON Lines with the quality metric",
        description="Score one improvement per line (original_idea, improved_prompt, context, role, directive, "
        "framework, guardrails as a list; other keys are ignored) and print one result per line, in order. "
        "A bad line gets an error naming it and the rest are still scored; the exit status is 1 if any line "
        "was bad, else 0.",
    )
    score.add_argument("file", metavar="FILE", help="a JSON Lines file, or - for standard input")
    score.add_argument(
        "--json", action="store_true",
        help="print a JSON object per line: line, quality, criteria, flags, metric_version (or line and error)",
    )
    score.set_defaults(handler=run_score)

    rescore = subparsers.add_parser(
        "rescore",
        help="recompute stored records' quality under the current metric (resumable)",
        description="Recompute the quality of every stored record not yet scored by the current quality metric, "
        "in batches, with progress on stderr. Interrupt it at any time: the next run continues with the "
        "records still to do.",
    )
    rescore.add_argument("--since", metavar="DATE", help="only records from this UTC date or timestamp on")
    rescore.add_argument("--batch-size", type=int, default=500, metavar="N", help="records per transaction (default 500)")
    rescore.add_argument("--db", type=Path, metavar="PATH", help="database file (default: SQLITE_DB_PATH)")
    rescore.set_defaults(handler=run_rescore)


def _lines(stream: BinaryIO) -> Iterator[str | bytes]:
    # Decoded line by line, so one line of broken UTF-8 is that line's error, not the whole file's.
    for raw in stream:
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError:
            yield raw


def _open(path: str) -> BinaryIO:
    if path == "-":
        return sys.stdin.buffer
    file = Path(path)
    if file.is_dir():
        raise UsageError(f"{file} is a directory; give a JSON Lines file (one improvement per line) or - for stdin")
    try:
        return file.open("rb")
    except FileNotFoundError:
        raise UsageError(f"{file} does not exist; give a JSON Lines file (one improvement per line) or - for stdin") from None
    except OSError as error:
        raise UsageError(f"cannot read {file}: {error.strerror}") from None


def run_score(args: argparse.Namespace) -> int:
    """`prompt-improver score FILE [--json]`: one result per input line; exit 1 if any line was bad."""
    from pipeline.quality import QualityMetric
    from pipeline.scoring import score_lines

    metric = QualityMetric()
    bad: list[int] = []
    stream = _open(args.file)
    try:
        for scored in score_lines(_lines(stream), metric):
            if scored.error is not None:
                bad.append(scored.line)
                print(f"error: line {scored.line}: {scored.error}", file=sys.stderr)
            if args.json:
                sys.stdout.write(json.dumps(scored.to_dict(), ensure_ascii=False) + "\n")
            elif scored.result is not None:
                flags = ", ".join(scored.result.flags) or "none"
                sys.stdout.write(f"line {scored.line}: quality {scored.result.quality:.4f}  flags: {flags}\n")
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader stopped early (`score FILE | head`); see `history` for why stdout is redirected.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    if bad:
        shown = ", ".join(map(str, bad[:10])) + (" …" if len(bad) > 10 else "")
        print(f"error: {len(bad)} line(s) could not be scored (line {shown}); fix them and score again", file=sys.stderr)
        return 1
    return 0


def run_rescore(args: argparse.Namespace) -> int:
    """`prompt-improver rescore [--since D]`: rescore stale records, progress on stderr, summary on stdout."""
    from prompt_improver.commands.store_commands import _settings
    from prompt_improver.dates import parse_when
    from prompt_improver.wiring import open_repository

    since = parse_when("--since", args.since).moment if args.since else None
    if not 1 <= args.batch_size <= 100_000:
        raise UsageError(f"--batch-size must be from 1 to 100,000, got {args.batch_size:,}")
    from pipeline.quality import QualityMetric
    from pipeline.rescore import rescore

    def progress(done: int, stale: int) -> None:
        share = f" ({done / stale:.0%})" if stale else ""
        print(f"rescored {done:,} of {stale:,} records{share}", file=sys.stderr, flush=True)

    with open_repository(_settings(args)) as repo:
        result = rescore(repo, QualityMetric(), since=since, batch_size=args.batch_size, progress=progress)
    if result.stale == 0:
        print(f"every record is already scored by quality metric {result.metric_version}; nothing to do")
    else:
        print(f"rescored {result.rescored:,} records under quality metric {result.metric_version}")
    return 0
