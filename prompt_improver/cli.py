"""`prompt-improver`: the command-line composition root.

Results go to stdout; expected failures go to stderr as one line with a non-zero exit, no traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from pipeline.errors import PipelineError
from prompt_improver.errors import UsageError
from prompt_improver.settings import SettingsError
from prompt_improver.terminal import printable
from store.errors import InvalidRecord, RepositoryError

COMMAND_MODULES = (
    "prompt_improver.commands.store_commands",
    "prompt_improver.commands.improve_commands",
    "prompt_improver.commands.analytics_commands",
    "prompt_improver.commands.compare_commands",
    "prompt_improver.commands.dashboard_command",
    "prompt_improver.commands.copy_command",
    "prompt_improver.commands.quality_commands",
    "prompt_improver.commands.search_command",
)

EXPECTED_ERRORS = (PipelineError, RepositoryError, InvalidRecord, SettingsError)
# Libraries whose own log lines (retry advice for programmers, price-map downloads) are not for users:
# shown only with -v. Our messages say what happened and what to do.
LIBRARY_LOGGERS = ("dspy", "LiteLLM", "litellm", "httpx", "httpcore", "openai", "urllib3")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command registered."""
    parser = argparse.ArgumentParser(
        prog="prompt-improver", description="Improve prompts with DSPy and keep an analysable history."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages to stderr")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return the process exit status."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not args.verbose:
        for name in LIBRARY_LOGGERS:
            logging.getLogger(name).setLevel(logging.CRITICAL + 1)
    try:
        return int(args.handler(args) or 0)
    except EXPECTED_ERRORS + (UsageError,) as error:
        # One line per failure: some messages (how to configure a model) are written as paragraphs.
        print("error: " + " ".join(printable(str(error)).split()), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    # `python -m prompt_improver.cli` runs this file as __main__; delegate to the imported module so the
    # command modules and the dispatcher share one copy of every class (UsageError above all).
    from prompt_improver.cli import main as imported_main

    sys.exit(imported_main())
