"""An in-memory DuckDB with the sqlite extension loaded from the pinned wheel (never downloaded).

`python -m store.analytics.extension` prints whether the extension loads and exits 0 or 1 (`doctor` runs
it in a subprocess, because a process that opens the history through `sqlite3` must not load DuckDB's
SQLite copy on the same file).

`PROMPT_IMPROVER_SQLITE_EXTENSION` may name another extension file; it replaces the wheel's file (a
path that does not exist behaves exactly like a missing wheel). `PROMPT_IMPROVER_DUCKDB_EXTENSION_REPOSITORY`
names the repository (a URL or a local directory, e.g. a mirror) the `INSTALL sqlite` fallback uses
instead of DuckDB's default one.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from types import MappingProxyType

import duckdb

from store.analytics import utf8_text
from store.errors import AnalyticsUnavailable

logger = logging.getLogger(__name__)

EXTENSION_PATH_VARIABLE = "PROMPT_IMPROVER_SQLITE_EXTENSION"
REPOSITORY_VARIABLE = "PROMPT_IMPROVER_DUCKDB_EXTENSION_REPOSITORY"
WHEEL_PACKAGE = "duckdb_extension_sqlite_scanner"
_CONFIG = MappingProxyType({
    # Loading is explicit; an unplanned autoload would try the network mid-query.
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
})


def wheel_extension_path() -> Path | None:
    """The extension file shipped by `duckdb-extension-sqlite-scanner` for this DuckDB version, if any.

    The environment variable `PROMPT_IMPROVER_SQLITE_EXTENSION` replaces the wheel's path.
    """
    override = os.environ.get(EXTENSION_PATH_VARIABLE)
    if override:
        return Path(override)
    try:
        from importlib.resources import files

        package = files(WHEEL_PACKAGE)
    except ModuleNotFoundError:
        return None
    # The wheel lays the file out as DuckDB's extension directory does: extensions/v<version>/.
    return Path(str(package / "extensions" / f"v{duckdb.__version__}" / "sqlite_scanner.duckdb_extension"))


def fix_message() -> str:
    """The one-line fix for a missing extension, naming the version that must match DuckDB's."""
    return f"pip install duckdb-extension-sqlite-scanner=={duckdb.__version__} (the version must equal duckdb's)"


def connect_duckdb() -> duckdb.DuckDBPyConnection:
    """Open an in-memory DuckDB with the sqlite extension loaded.

    Tries the wheel's extension file first, then DuckDB's own `INSTALL sqlite; LOAD sqlite` (an
    extension already installed in DuckDB's extension directory, or a download where one is allowed).

    Raises:
        AnalyticsUnavailable: neither worked; the message names both causes and the fix.
    """
    connection = duckdb.connect(":memory:", config=dict(_CONFIG))
    try:
        connection.execute("SET enable_progress_bar = false")  # it would draw on a CLI user's terminal
        _load_sqlite_extension(connection)
        # One SQLite connection per scan: a consistent snapshot, and no parallel readers on the file.
        connection.execute("SET sqlite_disable_multithreaded_scans = true")
        utf8_text.install(connection)  # every query reading text from the file uses it
    except BaseException:
        connection.close()
        raise
    return connection


def _load_sqlite_extension(connection: duckdb.DuckDBPyConnection) -> None:
    path = wheel_extension_path()
    if path is not None and path.is_file():
        try:
            connection.execute(f"LOAD '{_quote(path)}'")
            return
        except duckdb.Error as error:
            wheel_problem = f"loading {path} failed: {error}".splitlines()[0]
    elif path is None:
        wheel_problem = f"the package {WHEEL_PACKAGE} is not installed"
    else:
        wheel_problem = f"the extension file {path} does not exist"
    logger.debug("sqlite extension from the wheel unavailable (%s); trying INSTALL sqlite", wheel_problem)
    repository = os.environ.get(REPOSITORY_VARIABLE)
    try:
        connection.execute(f"INSTALL sqlite FROM '{_quote(repository)}'" if repository else "INSTALL sqlite")
        connection.execute("LOAD sqlite")
    except duckdb.Error as error:
        install_problem = str(error).splitlines()[0]
        raise AnalyticsUnavailable(
            f"DuckDB's sqlite extension cannot be loaded: {wheel_problem}; INSTALL sqlite failed: "
            f"{install_problem}. Fix: {fix_message()}"
        ) from None


def _quote(path: Path | str) -> str:
    return str(path).replace("'", "''")


def status() -> tuple[bool, str]:
    """Whether the extension loads here, and a one-line description (for `doctor`)."""
    try:
        connection = connect_duckdb()
    except AnalyticsUnavailable as error:
        return False, str(error)
    try:
        row = connection.execute(
            "SELECT extension_version FROM duckdb_extensions() WHERE extension_name = 'sqlite_scanner'"
        ).fetchone()
    finally:
        connection.close()
    version = row[0] if row and row[0] else "unknown version"
    return True, f"DuckDB {duckdb.__version__} with the sqlite extension ({version}) loaded"


def main() -> int:
    """Print the extension status; exit status 0 when it loads, 1 when it does not."""
    ok, message = status()
    print(("ok: " if ok else "error: ") + message, file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
