"""Every page on a PostgreSQL history (DATABASE_URL): the server's rows shown, no SQLite file written,
and the demo database still a local file that never touches the server."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
import streamlit as st

from prompt_improver.settings import load_settings
from prompt_improver.wiring import open_repository
from prompt_improver.demo import generate_demo_records
from tests.app._support import open_app, texts
from tests.app.test_every_page import _visit_every_page
from tests.support.postgres import PASSWORD

pytestmark = pytest.mark.postgres


@pytest.fixture
def team_db(postgres_url: str, app_db: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DATABASE_URL", postgres_url)
    return postgres_url


def test_every_page_shows_the_servers_history(team_db: str, app_db: Path) -> None:
    with open_repository(load_settings()) as repo:
        repo.save_many(generate_demo_records(2_000, days=20, seed=3))  # inside the default window
    at = open_app()
    at.switch_page("views/analytics.py").run()
    assert not at.exception
    assert [metric.value for metric in at.metric if metric.label == "Improvements"] == ["2,000"]
    at.switch_page("views/history.py").run()
    assert "of 2,000, newest first" in texts(at)
    seen = _visit_every_page(at)
    at.switch_page("views/settings.py").run()
    assert [metric.value for metric in at.metric if metric.label == "Records"] == ["2,000"]
    assert team_db.replace(PASSWORD, "***") in [block.value for block in at.code]  # where the history is
    assert all(PASSWORD not in text for text in seen.values())
    assert not app_db.exists()


def test_a_server_that_cannot_be_reached_is_explained_on_every_page(
    app_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"postgresql://prompt:{PASSWORD}@127.0.0.1:1/none")
    monkeypatch.setenv("DATABASE_TIMEOUT_S", "1")
    seen = _visit_every_page(open_app())
    for page in ("views/history.py", "views/analytics.py", "views/settings.py"):
        assert "cannot reach the PostgreSQL server" in seen[page], page
        assert PASSWORD not in seen[page]


def test_demo_mode_writes_a_local_file_and_leaves_the_server_alone(team_db: str, app_db: Path) -> None:
    at = open_app()
    at.switch_page("views/history.py").run()
    demo_buttons = [button for button in at.button if "demo" in button.label.lower()]
    assert demo_buttons, texts(at)
    demo_buttons[0].click().run()
    assert not at.exception
    assert app_db.with_name(app_db.stem + ".demo.db").exists()
    with psycopg.connect(team_db) as conn:
        assert conn.execute("SELECT count(*) FROM prompt_history").fetchone() == (0,)


def test_an_improvement_made_on_the_page_is_stored_on_the_server_and_shown_by_analytics(
    team_db: str, app_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.support.fake_openai import FakeOpenAIServer, good_fields, reply

    idea = "Write a launch announcement for our new public API"
    with FakeOpenAIServer(default=reply(good_fields(idea))) as server:
        for name, value in {"LLM_MODEL": "openai/fake-model", "LLM_API_BASE": server.base_url,
                            "LLM_API_KEY": "test-key", "LLM_MAX_RETRIES": "0", "LLM_TIMEOUT_S": "20"}.items():
            monkeypatch.setenv(name, value)
        at = open_app("views/analytics.py")  # the analytics cached while the history is empty
        at.switch_page("views/improve.py").run()
        at.text_area(key="improve_idea").input(idea)
        at.button[0].click()
        at.run()
    assert not at.exception
    with psycopg.connect(team_db) as conn:
        rows = conn.execute("SELECT id, original_idea, model_version FROM prompt_history").fetchall()
    assert [(idea_, model) for _, idea_, model in rows] == [(idea, "openai/fake-model")]
    assert f"Saved as #{rows[0][0]}" in texts(at)
    at.switch_page("views/analytics.py").run()
    assert [metric.value for metric in at.metric if metric.label == "Improvements"] == ["1"]
    assert not app_db.exists()


def test_history_search_on_the_server_ranks_marks_and_builds_its_index(team_db: str, app_db: Path) -> None:
    from datetime import timedelta

    from store.timestamps import utc_now
    from tests.support.builders import make_record

    with open_repository(load_settings()) as repo:
        repo.save_many([make_record(original_idea=f"Idea {i} for a café newsletter", timestamp=utc_now()
                                    - timedelta(days=2, minutes=i)) for i in range(5)])
        repo.save(make_record(original_idea="Newsletter newsletter newsletter: the café edition",
                              timestamp=utc_now() - timedelta(days=3)))
    at = open_app("views/history.py")
    at.text_input(key="history_text").input("NEWSLETTER cafe").run()
    assert not at.exception
    assert at.dataframe[0].value["id"].tolist()[0] == 1  # newest first by default
    at.radio(key="history_order").set_value("relevance").run()
    assert at.dataframe[0].value["id"].tolist()[0] == 6  # the record saying it three times
    assert "records 1–6 of 6, best match first" in texts(at)
    at.session_state[at.session_state["history_table_key"]] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    marked = [block.value for block in at.markdown if "<mark>" in block.value]
    assert marked == ['<div style="white-space: pre-wrap"><mark>Newsletter</mark> <mark>newsletter</mark> '
                      '<mark>newsletter</mark>: the <mark>café</mark> edition</div>']
    with psycopg.connect(team_db) as conn:  # as an upgrade too large to fill when the store opened leaves it
        conn.execute("UPDATE prompt_history SET search_vector = NULL")
        conn.execute("UPDATE app_settings SET value = '6' WHERE key = 'search_backfill_end'")
        conn.execute("UPDATE app_settings SET value = '0' WHERE key = 'search_backfill_done'")
        conn.execute("DROP INDEX idx_prompt_history_search")
    st.cache_data.clear()  # what a new session would see (the store stays open: no back-fill at start)
    at = open_app("views/history.py")
    at.text_input(key="history_text").input("dea 1").run()
    assert "The search index is 0% built" in texts(at) and "**1** matching record(s)" in texts(at)  # substring
    at.button(key="history_build_index").click().run()
    assert not at.exception
    assert "The search index is" not in texts(at)
    assert "No record matches these filters" in texts(at)  # whole words now: no word "dea"
    assert not app_db.exists()
