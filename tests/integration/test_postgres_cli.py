"""The CLI on a PostgreSQL history (DATABASE_URL): the commands a team runs, checked with SQL on the server."""

from __future__ import annotations

import json
from datetime import timedelta

import psycopg
import pytest

from prompt_improver.cli import main
from store.postgres.migrations import migrate
from store.postgres.repository import PostgresPromptRepository
from store.timestamps import utc_now
from tests.support.builders import make_record
from tests.support.fake_openai import FakeOpenAIServer, good_fields, reply
from tests.support.postgres import PASSWORD

pytestmark = pytest.mark.postgres
IDEA = "Write a changelog entry for our new export feature"


@pytest.fixture
def url(postgres_url, monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", postgres_url)
    monkeypatch.setenv("SQLITE_DB_PATH", str(tmp_path / "data" / "history.db"))
    monkeypatch.setenv("DSPY_PROGRAM_DIR", str(tmp_path / "programs"))
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    return postgres_url


@pytest.fixture
def model_env(monkeypatch):
    with FakeOpenAIServer(default=reply(good_fields(IDEA))) as fake:
        monkeypatch.setenv("LLM_MODEL", "openai/fake-model")
        monkeypatch.setenv("LLM_API_BASE", fake.base_url)
        monkeypatch.setenv("LLM_API_KEY", "test")
        monkeypatch.setenv("LLM_MAX_RETRIES", "0")
        monkeypatch.setenv("LLM_TIMEOUT_S", "10")
        yield fake


def sql(url: str, query: str, params: tuple = ()) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()


def test_history_lists_the_servers_records_and_writes_no_sqlite_file(url, capsys, tmp_path):
    migrate(url)
    with PostgresPromptRepository(url) as repo:
        saved = [repo.save(make_record(original_idea=f"idea number {i}", timestamp=utc_now() - timedelta(minutes=i)))
                 for i in range(3)]
    assert main(["history", "--json", "--limit", "2"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [item["uid"] for item in listed] == [saved[0].uid, saved[1].uid]
    assert not (tmp_path / "data" / "history.db").exists()


def test_prune_deletes_exactly_the_older_rows_and_backs_up_with_pg_dump(url, capsys, tmp_path):
    migrate(url)
    now = utc_now()
    with PostgresPromptRepository(url) as repo:
        repo.save_many(make_record(timestamp=now - timedelta(days=age, hours=1)) for age in range(60))
    older = sql(url, "SELECT count(*) FROM prompt_history WHERE timestamp < now() - interval '30 days'")[0][0]
    backup = tmp_path / "before-prune.dump"
    assert main(["prune", "--older-than-days", "30", "--backup", str(backup)]) == 0
    assert f"deleted {older:,} records" in capsys.readouterr().out
    assert sql(url, "SELECT count(*) FROM prompt_history WHERE timestamp < now() - interval '30 days'") == [(0,)]
    assert sql(url, "SELECT count(*) FROM prompt_history") == [(60 - older,)]
    assert backup.read_bytes().startswith(b"PGDMP")  # pg_dump's custom format


def test_demo_data_refuses_to_mix_into_real_history(url, capsys):
    migrate(url)
    PostgresPromptRepository(url).save(make_record())
    assert main(["demo-data", "--rows", "10"]) == 1
    err = capsys.readouterr().err
    assert "1 records that are not demo data" in err and PASSWORD not in err and "***" in err


def test_doctor_shows_the_server_schema_and_rows_with_the_password_masked(url, capsys):
    assert main(["demo-data", "--rows", "500"]) == 0
    assert main(["doctor"]) in (0, 1)  # the model may be unconfigured; the database section is what counts
    out = capsys.readouterr().out
    assert PASSWORD not in out
    assert "postgresql://prompt:***@127.0.0.1" in out
    (version,) = sql(url, "SELECT current_setting('server_version')")[0]
    assert f"server          PostgreSQL {version}" in out
    assert "rows            500" in out


def test_doctor_names_an_unreachable_server_without_the_password(monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", f"postgresql://prompt:{PASSWORD}@127.0.0.1:1/none")
    monkeypatch.setenv("DATABASE_TIMEOUT_S", "1")
    assert main(["doctor"]) == 1
    captured = capsys.readouterr()
    assert "cannot reach the PostgreSQL server" in captured.err
    assert PASSWORD not in captured.out + captured.err


def test_an_invalid_database_url_is_one_line_without_the_password(monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", f"mysql://prompt:{PASSWORD}@db/history")
    assert main(["history"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: invalid setting(s): DATABASE_URL") and PASSWORD not in err


def test_improve_with_the_server_down_keeps_the_record_in_the_outbox_and_replays_it(
    url, model_env, postgres_cluster, capsys, tmp_path, monkeypatch
):
    monkeypatch.setenv("DATABASE_TIMEOUT_S", "2")
    assert main(["improve", IDEA, "--backend", "zero-shot", "--json"]) == 0
    postgres_cluster.stop()
    try:
        assert main(["improve", IDEA, "--backend", "zero-shot", "--json"]) == 0
        kept = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        assert kept["saved"] is False and PASSWORD not in kept["persistence_error"]
        outbox = tmp_path / "data" / "history.db.outbox.jsonl"
        waiting = [json.loads(line)["uid"] for line in outbox.read_text().splitlines() if line.strip()]
        assert waiting == [kept["uid"]]
    finally:
        postgres_cluster.start()
    assert main(["improve", IDEA, "--backend", "few-shot", "--json"]) == 0
    stored = {uid for (uid,) in sql(url, "SELECT uid FROM prompt_history")}
    assert len(stored) == 3 and set(waiting) <= stored
    assert not outbox.exists() or not outbox.read_text().strip()


def test_compare_stores_the_experiment_and_its_tagged_history_on_the_server(url, capsys, tmp_path, monkeypatch):
    from tests.support.fake_openai import FakeOpenAIServer as Server

    ideas = tmp_path / "ideas.jsonl"
    ideas.write_text("".join(json.dumps({"idea": f"Plan a team offsite number {i}", "context": ""}) + "\n"
                             for i in range(3)), encoding="utf-8")
    with Server() as fake:
        for name, value in {"LLM_MODEL": "openai/fake-model", "LLM_API_BASE": fake.base_url,
                            "LLM_MAX_RETRIES": "0", "LLM_TIMEOUT_S": "20"}.items():
            monkeypatch.setenv(name, value)
        assert main(["compare", "--eval-set", str(ideas), "--concurrency", "2", "--name", "team", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["n_pairs"] == 3 and summary["status"] == "completed"
    assert sql(url, "SELECT id, name, status, planned, succeeded FROM experiments") == [
        (summary["experiment_id"], "team", "completed", 6, 6)
    ]
    assert sql(url, "SELECT backend, count(*) FROM prompt_history WHERE experiment_id = %s GROUP BY 1 ORDER BY 1",
               (summary["experiment_id"],)) == [("few-shot", 3), ("zero-shot", 3)]
    assert main(["compare", "--list", "--json"]) == 0
    assert summary["experiment_id"] in capsys.readouterr().out
    assert not (tmp_path / "data" / "history.db").exists()
