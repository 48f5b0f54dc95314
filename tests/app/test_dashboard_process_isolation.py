"""The hard rule in the dashboard's own process: it opens the history through `sqlite3` (the Improve page
saves, Settings reads the file's health), so DuckDB must never be imported there — not by a page, not by
a module a page imports, not by unpickling an answer or an error from the analytics worker. The worker is
a spawned process of its own and may import DuckDB; this test is about the process the pages run in.

`tests/support/isolated_dashboard.py` runs in a fresh interpreter with an audit hook installed before the
first import, improves a prompt against the fake OpenAI-compatible server, visits every page with AppTest
over a demo history in a temporary SQLite file, builds History's CSV download and receives the worker's
`ExportTooLarge`, then reports; the CLI's entry points are covered by
`tests/integration/test_analytics_process_isolation.py`.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

from prompt_improver.demo import generate_demo_records
from store.sqlite.migrations import migrate
from store.sqlite.repository import SQLitePromptRepository
from tests.support.fake_openai import FakeOpenAIServer, good_fields, reply
from tests.support.streamlit_server import ROOT

IDEA = "Summarise this week's incident reports for the leadership team"
TITLES = {
    "views/improve.py": "Improve a prompt", "views/history.py": "History", "views/analytics.py": "Analytics",
    "views/compare.py": "Compare zero-shot and few-shot", "views/settings.py": "Settings",
}


def test_no_page_of_the_dashboard_imports_duckdb_in_its_process(tmp_path: Path) -> None:
    db = tmp_path / "history.db"
    migrate(db)
    with SQLitePromptRepository(db) as repo:
        repo.save_many(generate_demo_records(2_000, days=60, seed=17))
    with FakeOpenAIServer(default=reply(good_fields(IDEA))) as server:
        env = {
            **os.environ, "SQLITE_DB_PATH": str(db), "LLM_MODEL": "openai/fake-model", "LLM_API_BASE": server.base_url,
            "LLM_API_KEY": "test-key", "LLM_CACHE": "false", "LLM_MAX_RETRIES": "0",
            "DSPY_PROGRAM_DIR": str(tmp_path / "programs"), "OUTBOX_PATH": str(tmp_path / "outbox.jsonl"),
        }
        result = subprocess.run(
            [sys.executable, "-m", "tests.support.isolated_dashboard", IDEA], cwd=ROOT, env=env,
            capture_output=True, text=True, timeout=600,
        )
    assert result.returncode == 0, result.stderr[-4000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])

    for page, (titles, _, exceptions) in report["pages"].items():
        assert titles[:1] == [TITLES[page]] and not exceptions, f"{page}: {titles} {exceptions}"
    assert [text for text in report["pages"]["views/improve.py"][1] if text.startswith("Saved as #")]
    with closing(sqlite3.connect(db)) as conn:
        stored = conn.execute("SELECT count(*) FROM prompt_history").fetchone()[0]
        saved = conn.execute("SELECT count(*) FROM prompt_history WHERE original_idea = ?", (IDEA,)).fetchone()[0]
    assert saved == 1, "the improvement made on the Improve page is not in the file"
    assert report["csv_records"] == stored, "History's download does not hold every record"
    assert report["too_large"] and report["too_large"].startswith("store.analytics.errors.ExportTooLarge: ")
    assert report["sqlite3_connects"] > 0  # the process does open the file through sqlite3 ...
    assert report["duckdb_imports"] == [], report["duckdb_imports"][0]  # ... so DuckDB must never load in it
    assert report["duckdb_in_sys_modules"] == []
