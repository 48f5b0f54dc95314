"""`prompt-improver search-index` on an upgraded history: progress on stderr, then searchable; again: nothing to do."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from tests.support.search_history import v6_history

ROOT = Path(__file__).resolve().parents[2]


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "prompt_improver.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)


def test_search_index_upgrades_and_indexes_with_progress_then_has_nothing_left(tmp_path):
    path = v6_history(tmp_path / "old.db", 1000)
    first = _cli("search-index", "--db", str(path), "--batch", "100")
    assert first.returncode == 0, first.stderr
    assert "search index  10.0%" in first.stderr and "search index 100.0%" in first.stderr
    assert first.stdout.startswith(f"indexed {path} for search in ")
    with closing(sqlite3.connect(path)) as conn:
        (found,) = conn.execute("SELECT count(*) FROM prompt_history_fts WHERE prompt_history_fts MATCH 'cafe'").fetchone()
    assert found == 1000
    again = _cli("search-index", "--db", str(path))
    assert again.returncode == 0 and again.stdout.strip() == f"the search index of {path} is complete"


def test_search_index_refuses_a_batch_below_one(tmp_path):
    result = _cli("search-index", "--db", str(tmp_path / "h.db"), "--batch", "0")
    assert result.returncode == 1 and result.stderr.strip() == "error: --batch must be at least 1, got 0"


@pytest.mark.postgres
def test_search_index_with_database_url_fills_and_indexes_postgresql_and_touches_no_file(tmp_path, postgres_url):
    import os

    import psycopg

    from tests.integration.test_postgres_search import _version_4_history
    from tests.support.postgres import PASSWORD

    _version_4_history(postgres_url, 300)
    default = tmp_path / "default.db"
    env = {**os.environ, "DATABASE_URL": postgres_url, "SQLITE_DB_PATH": str(default)}
    result = subprocess.run([sys.executable, "-m", "prompt_improver.cli", "search-index", "--batch", "100"],
                            capture_output=True, text=True, cwd=ROOT, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    assert "search index  33.3%" in result.stderr and "search index 100.0%" in result.stderr
    assert result.stdout.startswith("indexed postgresql://prompt:***@") and PASSWORD not in result.stdout
    assert not default.exists()
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT count(*) FROM prompt_history WHERE search_vector @@ 'cafe'::tsquery").fetchone() == (300,)
    again = subprocess.run([sys.executable, "-m", "prompt_improver.cli", "search-index"], capture_output=True,
                           text=True, cwd=ROOT, timeout=120, env=env)
    assert again.returncode == 0 and again.stdout.startswith("the search index of postgresql://prompt:***@")
