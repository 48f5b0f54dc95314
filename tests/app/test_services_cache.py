"""The dashboard builds its collaborators once per configuration (`composition.services`), and retries a
database that could not be opened instead of remembering the failure."""

from __future__ import annotations

from pathlib import Path

from dashboard import composition
from tests.app._support import open_app, texts


def test_the_services_are_built_once_per_configuration(app_db: Path) -> None:
    at = open_app("views/history.py")
    assert not at.exception
    user = composition.settings()
    built = composition.services(user)
    at.switch_page("views/settings.py").run()

    assert composition.services(user) is built  # every page and session of the process shares them
    assert built.repository.db_path == app_db
    demo = composition.services(composition.settings_for(user, composition.demo_path(app_db)))
    assert demo is not built and demo.repository.db_path == composition.demo_path(app_db)


def test_a_database_that_could_not_be_opened_is_opened_on_a_later_run(tmp_path: Path, monkeypatch) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("a file where the database's directory should be")
    monkeypatch.setenv("SQLITE_DB_PATH", str(blocker / "prompt_history.db"))

    at = open_app("views/history.py")
    assert not at.exception
    assert "cannot be opened" in texts(at)

    blocker.unlink()  # the user fixes it and reloads
    at.run()

    assert not at.exception
    assert "cannot be opened" not in texts(at)
    assert (blocker / "prompt_history.db").exists()


def test_a_model_chosen_on_the_improve_page_gets_its_own_cached_model_factory(app_db: Path) -> None:
    at = open_app("views/history.py")
    user = composition.settings()
    chosen = user.model_copy(update={"llm_model": "openai/other", "llm_api_base": "http://127.0.0.1:9/v1"})

    assert composition.models(chosen) is composition.models(chosen)
    assert composition.models(chosen) is not composition.services(user).models
    assert composition.models(user) is composition.services(user).models
    assert not at.exception
