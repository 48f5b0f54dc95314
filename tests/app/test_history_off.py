"""SQLITE_ENABLED=false on the dashboard: improvements are shown and said not to be stored, nothing is written,
and the pages that read the history say it is off instead of failing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.app._support import open_app, texts
from tests.support.fake_openai import FakeOpenAIServer, good_fields, reply

IDEA = "Write a launch announcement for our new public API"


@pytest.fixture
def history_off(app_db: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SQLITE_ENABLED", "false")
    return app_db


def _nothing_written(app_db: Path) -> None:
    assert not app_db.parent.exists(), sorted(app_db.parent.iterdir())  # no database, no outbox, no directory


def test_an_improvement_is_shown_says_it_was_not_stored_and_writes_nothing(history_off: Path, monkeypatch) -> None:
    with FakeOpenAIServer(default=reply(good_fields(IDEA))) as server:
        monkeypatch.setenv("LLM_MODEL", "openai/fake-model")
        monkeypatch.setenv("LLM_API_BASE", server.base_url)
        monkeypatch.setenv("LLM_MAX_RETRIES", "0")
        at = open_app()
        assert "Improvements are shown, not stored" in texts(at)
        at.text_area(key="improve_idea").input(IDEA)
        at.radio(key="improve_backend").set_value("zero-shot")
        at.button[0].click()
        at.run()

    assert not at.exception
    assert any(good_fields(IDEA)["improved_prompt"] in code.value for code in at.code)  # the result is shown
    notes = [info.value for info in at.info]
    assert any("Not stored: history is turned off (SQLITE_ENABLED=false)" in note for note in notes), notes
    assert not at.error and not [w for w in at.warning if w.icon != ":material/public:"]  # no outbox notice
    assert "Saved as" not in texts(at)
    _nothing_written(history_off)


@pytest.mark.parametrize("page", ["views/history.py", "views/analytics.py", "views/compare.py", "views/settings.py"])
def test_the_pages_that_read_the_history_say_it_is_off(history_off: Path, page: str) -> None:
    at = open_app(page)

    assert not at.exception
    assert not at.error
    assert "History is turned off" in texts(at)
    assert "history is off (SQLITE_ENABLED=false)" in "\n".join(md.value for md in at.sidebar.markdown)
    _nothing_written(history_off)
