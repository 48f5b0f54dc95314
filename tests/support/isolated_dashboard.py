"""The dashboard, every page, in a process of its own that records what it imports (run by
`tests/app/test_dashboard_process_isolation.py`, which reads the JSON report this prints last on stdout).

    python -m tests.support.isolated_dashboard IDEA

Settings come from the environment (SQLITE_DB_PATH, the model). An audit hook is installed before anything
else is imported; it keeps the stack of the first import of DuckDB (so a failure says who imported it)
and counts `sqlite3.connect` calls. Then AppTest improves IDEA on the Improve page and visits History,
Analytics, Compare and Settings; History's CSV download is built the way its button builds it, and a
download over its row limit is asked of an analytics worker client so that the worker's `ExportTooLarge`
crosses the process boundary and is unpickled here. The analytics worker is a spawned process: what it
imports is not seen by this process's hook, and may include DuckDB.
"""

from __future__ import annotations

import sys
import traceback

_DUCKDB_IMPORTS: list[str] = []  # filled by the audit hook: this script runs once per process
_SQLITE3_CONNECTS: list[str] = []


def _audit(event: str, args: tuple) -> None:
    if event == "import" and str(args[0]).split(".")[0] in ("duckdb", "_duckdb") and not _DUCKDB_IMPORTS:
        _DUCKDB_IMPORTS.append(f"{args[0]} imported from:\n" + "".join(traceback.format_stack(limit=40)[:-1]))
    elif event == "sqlite3.connect":
        _SQLITE3_CONNECTS.append(str(args[0]))


PAGES = [("views/history.py", "History"), ("views/analytics.py", "Analytics"),
         ("views/compare.py", "Compare zero-shot and few-shot"), ("views/settings.py", "Settings")]


def run(idea: str) -> dict:
    """Use every page; returns what each page showed and what the process imported."""
    import csv
    import io
    import os
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from dashboard import _queries
    from store.analytics.errors import ExportTooLarge
    from store.analytics.worker import AnalyticsWorker

    db = os.environ["SQLITE_DB_PATH"]
    app = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
    at = AppTest.from_file(str(app), default_timeout=180).run()
    at.text_area(key="improve_idea").input(idea)
    at.button[0].click()  # the form's submit button
    at.run()
    shown = {"views/improve.py": ([t.value for t in at.title], [str(e.value) for e in at.success],
                                  [str(e.value) for e in at.exception])}
    for page, _ in PAGES:
        at.switch_page(page).run()
        shown[page] = ([t.value for t in at.title], [], [str(e.value) for e in at.exception])
    downloaded = _queries.records_csv(db, None, None, None, None)  # what History's *Download CSV* builds
    with AnalyticsWorker(db) as client:
        try:
            client.records_csv(max_rows=1)
            too_large = None
        except ExportTooLarge as error:
            too_large = f"{type(error).__module__}.{type(error).__name__}: {error}"
    return {
        "pages": shown,
        "csv_records": len(list(csv.reader(io.StringIO(downloaded.decode("utf-8"))))) - 1,  # less the header
        "too_large": too_large,
        "sqlite3_connects": len(_SQLITE3_CONNECTS),
        "duckdb_imports": _DUCKDB_IMPORTS,
        "duckdb_in_sys_modules": sorted(name for name in sys.modules if name.split(".")[0] in ("duckdb", "_duckdb")),
    }


if __name__ == "__main__":  # the analytics worker is spawned: it re-imports this file and must not run it
    sys.addaudithook(_audit)
    import json

    print(json.dumps(run(sys.argv[1])))
