"""Every page under the conditions a user meets: an empty database, demo data, a failing model, a database
that cannot be opened. No page may raise; each shows what the condition calls for."""

from __future__ import annotations

from pathlib import Path

import pytest

from prompt_improver.settings import load_settings
from prompt_improver.wiring import open_repository
from prompt_improver.demo import generate_demo_records
from tests.app._support import PAGES, open_app, texts
from tests.support.fake_openai import FakeOpenAIServer, status



def _visit_every_page(at) -> dict[str, str]:
    seen = {}
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception, f"{page}: {at.exception}"
        seen[page] = texts(at)
    return seen


def test_on_an_empty_database_history_and_analytics_offer_demo_data(app_db: Path) -> None:
    seen = _visit_every_page(open_app())
    for page in ("views/history.py", "views/analytics.py"):
        assert "Nothing here yet" in seen[page]
    assert "Improve a prompt" in seen["views/improve.py"]


def test_with_data_every_page_shows_it(app_db: Path) -> None:
    open_repository(load_settings(sqlite_db_path=app_db)).save_many(generate_demo_records(3_000, days=60, seed=3))
    at = open_app()
    at.switch_page("views/analytics.py").run()
    assert not at.exception
    assert [metric.label for metric in at.metric] == [
        "Improvements", "Avg confidence", "Avg quality", "p50 latency", "p95 latency"
    ]
    assert len(at.get("vega_lite_chart")) >= 8
    at.switch_page("views/history.py").run()
    assert not at.exception
    assert "of 3,000, newest first" in texts(at)
    assert len(at.dataframe[0].value) == 50
    _visit_every_page(at)
    at.switch_page("views/settings.py").run()
    assert [metric.value for metric in at.metric if metric.label == "Records"] == ["3,000"]


def test_a_failing_model_breaks_no_page(app_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeOpenAIServer(default=status(500, "provider down")) as server:
        monkeypatch.setenv("LLM_MODEL", "openai/fake-model")
        monkeypatch.setenv("LLM_API_BASE", server.base_url)
        monkeypatch.setenv("LLM_MAX_RETRIES", "0")
        seen = _visit_every_page(open_app())
    assert "openai/fake-model" in seen["views/improve.py"]


@pytest.mark.parametrize("kind", ["not a database", "a directory"])
def test_a_database_that_cannot_be_opened_is_explained_and_improve_still_works(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "history.db"
    if kind == "a directory":
        path.mkdir()
    else:
        path.write_bytes(b"definitely not SQLite\n" * 64)
    monkeypatch.setenv("SQLITE_DB_PATH", str(path))
    seen = _visit_every_page(open_app())
    for page in ("views/history.py", "views/analytics.py", "views/settings.py"):
        assert "The history database cannot be opened" in seen[page], page
    assert "Improve a prompt" in seen["views/improve.py"]


def test_an_invalid_setting_shows_an_error_page_naming_it(app_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SQLITE_RETENTION_DAYS", "0")
    at = open_app()
    assert not at.exception
    assert any("SQLITE_RETENTION_DAYS" in error.value for error in at.error)
    assert "Prompt Improver cannot start" in texts(at)
