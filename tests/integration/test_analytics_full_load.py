"""The read model's full load (store/analytics/model_load.py) runs DuckDB on one thread and gives the
connection its own thread setting back, whether the load succeeds or not.

The history is written here through `sqlite3`; DuckDB reads it in a child process (a process that opens
the file through `sqlite3` never attaches it through DuckDB).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support.analytics_db import create_history, record_at

ROOT = Path(__file__).resolve().parents[2]
CHILD = r"""
import json, sys
from store.analytics.engine import Analytics
from store.analytics.model_load import full_load

with Analytics(sys.argv[1], snapshot_min_rows=None) as analytics:
    con = analytics._connection
    con.execute("SET threads = 3")
    result = analytics.sync()
    seen = {"mode": result.mode, "rows": result.rows}
    seen["after_sync"] = con.execute("SELECT current_setting('threads')").fetchone()[0]
    try:
        full_load(con)  # nothing attached: the load fails
    except Exception as error:  # reported to the test
        seen["error"] = type(error).__name__
    seen["after_failure"] = con.execute("SELECT current_setting('threads')").fetchone()[0]
print(json.dumps(seen))
"""


def test_the_full_load_loads_every_row_and_leaves_the_thread_setting_as_it_found_it(tmp_path):
    path = create_history(tmp_path / "history.db", [record_at(f"2026-01-{day:02d} 10:00:00") for day in range(1, 21)])
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(path)], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert child.returncode == 0, child.stderr
    seen = json.loads(child.stdout)
    assert (seen["mode"], seen["rows"]) == ("rebuild", 20)
    assert seen["after_sync"] == 3
    assert seen["error"] == "CatalogException"
    assert seen["after_failure"] == 3
