"""Demo mode: a separate demo database for this session, a visible banner, and the way back."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.composition import DEMO_ROWS, demo_path
from tests.app._support import APP, TIMEOUT, open_app, texts
from tests.support.fake_openai import FakeOpenAIServer, good_fields, reply


def _count(path: Path) -> int:
    with closing(sqlite3.connect(path)) as conn, conn:
        return conn.execute("SELECT count(*) FROM prompt_history").fetchone()[0]


def test_demo_data_lives_in_its_own_database_and_the_user_can_go_back(
    app_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeOpenAIServer(default=reply(good_fields("Write a haiku about databases"))) as server:
        monkeypatch.setenv("LLM_MODEL", "openai/fake-model")
        monkeypatch.setenv("LLM_API_BASE", server.base_url)
        _explore_and_return(app_db)


def _explore_and_return(app_db: Path) -> None:
    at = open_app("views/history.py")
    assert "Nothing here yet" in texts(at)
    at.button(key="history_demo").click().run()
    assert not at.exception

    assert "Demo mode" in texts(at)
    assert f"of {DEMO_ROWS:,}, newest first" in texts(at)
    assert _count(demo_path(app_db)) == DEMO_ROWS
    assert _count(app_db) == 0  # never a demo row in the user's history

    at.switch_page("views/analytics.py").run()  # the whole session follows the demo database
    assert not at.exception and "Demo mode" in texts(at)
    assert at.metric[0].label == "Improvements" and at.metric[0].value != "0"

    at.switch_page("views/improve.py").run()  # a real improvement made in demo mode is the user's
    at.text_area(key="improve_idea").input("Write a haiku about databases")
    next(button for button in at.button if button.label == "Improve").click()
    at.run()
    assert not at.exception and "Saved as #1" in texts(at)
    assert _count(app_db) == 1 and _count(demo_path(app_db)) == DEMO_ROWS

    at.button(key="leave_demo").click().run()
    assert not at.exception
    assert "Demo mode" not in texts(at)
    at.switch_page("views/history.py").run()
    assert "records 1–1 of 1, newest first" in texts(at)  # the user's own history again


def _first(value):
    return value[-1] if isinstance(value, (list, tuple)) else value


def test_demo_mode_is_kept_in_the_url_so_a_reload_or_a_bookmark_opens_it_again(app_db: Path) -> None:
    at = open_app("views/history.py")
    at.button(key="history_demo").click().run()
    assert not at.exception and "Demo mode" in texts(at)
    assert _first(at.query_params["demo"]) == "1"
    at.switch_page("views/analytics.py").run()
    at.segmented_control(key="analytics_range").set_value("7d").run()
    assert not at.exception
    # The Analytics page writes its filters into the URL without dropping demo mode.
    assert {key: _first(value) for key, value in at.query_params.items()} == {"demo": "1", "range": "7d"}

    reloaded = AppTest.from_file(str(APP), default_timeout=TIMEOUT)  # a new session: a reload or a bookmark
    reloaded.query_params.update({"demo": "1", "range": "7d"})
    reloaded.run()
    reloaded.switch_page("views/analytics.py").run()
    assert not reloaded.exception
    assert "Demo mode" in texts(reloaded)  # the banner, and the demo database's records, not an empty history
    assert reloaded.metric[0].label == "Improvements" and reloaded.metric[0].value != "0"
    assert reloaded.segmented_control(key="analytics_range").value == "7d"
    assert _count(app_db) == 0

    reloaded.button(key="leave_demo").click().run()
    assert not reloaded.exception and "Demo mode" not in texts(reloaded)
    assert "demo" not in reloaded.query_params
    reloaded.run()  # the way back sticks: no demo parameter left to bring it back
    assert "Demo mode" not in texts(reloaded)


def test_a_plain_link_without_the_parameter_opens_the_users_own_history(app_db: Path) -> None:
    at = open_app("views/history.py")
    assert not at.exception and "Demo mode" not in texts(at) and "demo" not in at.query_params
