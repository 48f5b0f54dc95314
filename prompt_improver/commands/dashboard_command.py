"""`prompt-improver dashboard`: the Streamlit app with the project's configuration, from any directory.

Streamlit reads `.streamlit/config.toml` from the working directory and from the entrypoint's folder; the
app's own file (`dashboard/.streamlit/config.toml`: the theme) is found that way wherever this starts.
What must not depend on any file or `STREAMLIT_*` variable is passed as flags, which win over both: the
address (127.0.0.1 unless `--host`), the port, headless, and no usage statistics. Settings (`.env`) are
read from the directory the command is started in, as for every other command.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from prompt_improver.errors import UsageError

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8501


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `dashboard` to the `prompt-improver` parser."""
    dashboard = subparsers.add_parser(
        "dashboard", help="start the Streamlit dashboard (127.0.0.1 only unless --host)",
        description="Start the dashboard with the project's theme, headless and without usage statistics, "
        "bound to 127.0.0.1 unless --host names another address (the app then does not warn about it).",
    )
    dashboard.add_argument("--port", type=int, default=DEFAULT_PORT, metavar="N", help=f"port (default {DEFAULT_PORT})")
    dashboard.add_argument("--host", metavar="H", help=f"address to listen on (default {DEFAULT_HOST}; 0.0.0.0: every interface)")
    dashboard.set_defaults(handler=run_dashboard)


def streamlit_command(port: int, host: str | None) -> list[str]:
    """The `streamlit run` command line for these options."""
    return [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.address", host or DEFAULT_HOST,
        "--server.port", str(port),
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        "--browser.serverAddress", host if host and host not in ("0.0.0.0", "::") else DEFAULT_HOST,
    ]


def run_dashboard(args: argparse.Namespace) -> int:
    """Replace this process with Streamlit serving the dashboard (returns only on failure)."""
    from dashboard.exposure import CHOSEN_HOST_ENV

    if not 1 <= args.port <= 65_535:
        raise UsageError(f"--port must be from 1 to 65535, got {args.port}")
    host = args.host.strip() if args.host is not None else None
    if host == "":
        raise UsageError("--host is empty; name an address such as 127.0.0.1, or 0.0.0.0 for every interface")
    if not APP.is_file():
        raise UsageError(f"the dashboard is not installed beside this command ({APP} is missing); reinstall prompt-improver")
    environment = dict(os.environ)
    environment.pop(CHOSEN_HOST_ENV, None)  # only this command line's --host counts as the user's choice
    if host is not None:
        environment[CHOSEN_HOST_ENV] = host
    command = streamlit_command(args.port, host)
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execve(sys.executable, command, environment)  # Ctrl+C and signals then reach Streamlit directly
    except OSError as error:
        raise UsageError(f"cannot start Streamlit ({error.strerror}): run `{' '.join(command)}` to see why") from None
    return 1  # not reached
