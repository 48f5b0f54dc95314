"""The hard rule, checked per entry point: no process opens the history through `sqlite3` and attaches it
through DuckDB (two copies of SQLite in one process do not see each other's locks; see STYLE.md).

Each entry point runs in a fresh process with an audit hook: `sqlite3.connect` raises an audit event for
every connection, so a process that reads through DuckDB must raise none, and a process that opens the
file through `sqlite3` (doctor, history, prune, demo-data, rescore, search-index, improve, compare) must
never import DuckDB. And no module outside the DuckDB half of `store/analytics/` imports DuckDB at all.
The dashboard's process is checked page by page in `tests/app/test_dashboard_process_isolation.py`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.analytics_db import create_history, record_at
from tests.support.fake_openai import FakeOpenAIServer

_RUN = """
import json, sys
opened = []
sys.addaudithook(lambda event, args: opened.append(str(args[0])) if event == "sqlite3.connect" else None)
from prompt_improver.cli import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "sqlite3_connects": opened, "duckdb_loaded": "duckdb" in sys.modules}),
      file=sys.stderr)
"""

_ANALYTICS = """
import json, sys
from datetime import date
opened = []
sys.addaudithook(lambda event, args: opened.append(str(args[0])) if event == "sqlite3.connect" else None)
from store.analytics.engine import QUERIES, Analytics
with Analytics(sys.argv[1], snapshot_min_rows=1) as analytics:
    for name in QUERIES:
        if name.startswith("export"):
            analytics._call(name, sys.argv[2] + "/" + name + ".csv")
        elif name == "unpaired_samples":
            analytics._call(name, None, None, "quality")
        else:
            analytics._call(name)
    analytics.housekeeping()
print(json.dumps({"sqlite3_connects": opened}), file=sys.stderr)
"""


def _report(*argv: str) -> dict:
    result = subprocess.run([sys.executable, "-c", *argv], capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stderr.strip().splitlines()[-1])


@pytest.fixture
def history(db_path: Path) -> Path:
    return create_history(db_path, [record_at("2026-01-10 10:00:00"), record_at("2026-01-11 10:00:00")])


@pytest.mark.parametrize("command", [["stats"], ["stats", "--json"], ["export", "-o", "r.csv"],
                                     ["export", "--summary", "-o", "s.csv"]])
def test_stats_and_export_read_through_duckdb_only(history, tmp_path, command):
    command = [part if not part.endswith(".csv") else str(tmp_path / part) for part in command]
    report = _report(_RUN, *command, "--db", str(history))
    assert report["code"] == 0 and report["duckdb_loaded"]
    assert report["sqlite3_connects"] == []


def test_every_analytics_query_reads_through_duckdb_only(history, tmp_path):
    assert _report(_ANALYTICS, str(history), str(tmp_path))["sqlite3_connects"] == []


@pytest.mark.parametrize("command", [
    ["doctor"], ["history"], ["history", "--json", "--include-experiments"],
    ["prune", "--older-than-days", "30", "--dry-run"], ["prune", "--older-than-days", "30", "--vacuum"],
    ["demo-data", "--rows", "5", "--force"], ["rescore"], ["search-index"], ["compare", "--list"],
    ["improve", "Write a release note for the new search"], ["compare", "--eval-set", "EVAL"],
])
def test_commands_that_open_the_file_through_sqlite3_never_load_duckdb(history, eval_file, command, monkeypatch):
    with FakeOpenAIServer() as server:  # the model for improve and compare
        for name, value in {"LLM_MODEL": "openai/fake-model", "LLM_API_BASE": server.base_url,
                            "LLM_MAX_RETRIES": "0", "LLM_CACHE": "false"}.items():
            monkeypatch.setenv(name, value)
        report = _report(_RUN, *[str(eval_file) if part == "EVAL" else part for part in command], "--db", str(history))
    assert report["code"] == 0 and report["sqlite3_connects"]  # they do open it through sqlite3 ...
    assert not report["duckdb_loaded"]  # ... so DuckDB must not be in the process (doctor checks it in a child)


# store/analytics/__init__.py: the DuckDB-free half, which the dashboard and the CLI import.
DUCKDB_FREE = {"api", "worker", "errors", "ranges", "history_file"}
_IMPORT_ALL = """
import importlib, json, pkgutil, sys
allowed, first = set(sys.argv[1].split(",")), None
for package in ("store", "pipeline", "prompt_improver", "dashboard"):
    for module in pkgutil.walk_packages(importlib.import_module(package).__path__, package + "."):
        parts = module.name.split(".")
        if parts[:2] == ["store", "analytics"] and len(parts) > 2 and parts[2] not in allowed:
            continue  # the DuckDB half: only the worker process and `stats`/`export` import it
        importlib.import_module(module.name)
        if first is None and "duckdb" in sys.modules:
            first = module.name
print(json.dumps({"first_to_load_duckdb": first}), file=sys.stderr)
"""


def test_no_module_outside_the_duckdb_half_imports_duckdb():
    # By construction, not only along the paths the tests above take: every module of every package (the
    # dashboard's, the CLI's, the pipeline's, the store's with its analytics client) imports without DuckDB.
    assert _report(_IMPORT_ALL, ",".join(sorted(DUCKDB_FREE))) == {"first_to_load_duckdb": None}
