"""The issue's "done when", as a team runs it: DATABASE_URL at a fresh database, every command through the
installed console script in real processes, each answer checked with SQL on the server."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest

from store.sqlite.migrations import migrate
from store.sqlite.repository import SQLitePromptRepository
from tests.support.builders import make_record
from tests.support.fake_openai import FakeOpenAIServer, good_fields, reply
from tests.support.postgres import PASSWORD

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
IDEA = "Write a changelog entry for our new export feature"


def _cli() -> str:
    return str(Path(sys.executable).with_name("prompt-improver"))


def sql(url: str, query: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(query).fetchall()


@pytest.fixture
def env(postgres_url, tmp_path):
    with FakeOpenAIServer(default=reply(good_fields(IDEA))) as fake:
        yield {
            **os.environ, "DATABASE_URL": postgres_url, "SQLITE_DB_PATH": str(tmp_path / "local.db"),
            "DSPY_PROGRAM_DIR": str(tmp_path / "programs"), "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            "LLM_MODEL": "openai/fake-model", "LLM_API_BASE": fake.base_url, "LLM_API_KEY": "test",
            "LLM_MAX_RETRIES": "0", "LLM_TIMEOUT_S": "20",
        }


def run(env: dict, *argv: str) -> str:
    result = subprocess.run([_cli(), *argv], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert PASSWORD not in result.stdout + result.stderr
    return result.stdout


def test_a_team_database_from_demo_data_to_copy(env, postgres_url, tmp_path):
    url = postgres_url
    run(env, "demo-data", "--rows", "20000")
    assert sql(url, "SELECT count(*) FROM prompt_history") == [(20_000,)]

    stats = json.loads(run(env, "stats", "--json"))
    ((count, confidence, quality, latency, p50, p95),) = sql(url, """
        SELECT count(*), avg(confidence), avg(quality), avg(latency_ms),
               percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms),
               percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms)
        FROM prompt_history""")
    assert stats["total_count"] == count == 20_000
    for key, expected in (("average_confidence", confidence), ("average_quality", quality),
                          ("average_latency_ms", latency), ("p50_latency_ms", p50), ("p95_latency_ms", p95)):
        # stats --json rounds scores to 6 places and latencies to the microsecond (3 places of a millisecond)
        assert stats[key] == pytest.approx(expected, abs=1e-3 if "latency" in key else 1e-6), key
    assert stats["backend_distribution"] == dict(sql(url, "SELECT backend, count(*) FROM prompt_history GROUP BY 1"))

    def improve_three(_: int) -> None:
        for _ in range(3):
            run(env, "improve", IDEA, "--backend", "zero-shot")

    with ThreadPoolExecutor(4) as pool:  # each call starts its own process: 4 processes x 3 improvements
        list(pool.map(improve_three, range(4)))
    assert sql(url, "SELECT count(*) FROM prompt_history WHERE model_version = 'openai/fake-model'") == [(12,)]

    exported = tmp_path / "all.csv"
    run(env, "export", "-o", str(exported))
    with exported.open(newline="", encoding="utf-8") as handle:
        uids = [row["uid"] for row in csv.DictReader(handle)]
    assert sorted(uids) == sorted(uid for (uid,) in sql(url, "SELECT uid FROM prompt_history"))

    # "30 days" are 30 calendar days in UTC, today included: older means before 00:00 UTC 29 days ago.
    kept_from = "date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' - interval '29 days'"
    ((older, younger),) = sql(url, f"SELECT count(*) FILTER (WHERE timestamp < {kept_from}), "
                                   f"count(*) FILTER (WHERE timestamp >= {kept_from}) FROM prompt_history")
    assert older > 0
    out = run(env, "prune", "--older-than-days", "30")
    assert f"deleted {older:,} records" in out
    assert sql(url, "SELECT count(*) FROM prompt_history") == [(younger,)]

    history_db = tmp_path / "history.db"
    migrate(history_db)
    with SQLitePromptRepository(history_db) as repo:
        records = [make_record() for _ in range(250)]
        repo.save_many(records)
    mine = [record.uid for record in records]
    out = run(env, "copy", "--from", str(history_db), "--to", url)
    assert "copied 250 records" in out
    stored = {uid for (uid,) in sql(url, "SELECT uid FROM prompt_history")}
    assert set(mine) <= stored and len(stored) == younger + 250
