"""`build_services`: the one builder both entry points use, honouring every setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.errors import ModelNotConfigured
from prompt_improver.services import HISTORY_OFF, Services, build_services
from prompt_improver.settings import load_settings
from store.errors import RepositoryError
from tests.support.builders import make_record


def test_the_services_share_one_history_file_and_its_outbox(db_path: Path) -> None:
    services = build_services(load_settings(sqlite_db_path=db_path))
    try:
        saved = services.repository.save(make_record())
        assert services.unavailable is None and not services.history_off
        assert services.repository.get(saved.id) == saved
        assert Path(services.experiments.db_path) == db_path  # experiments live beside the history
        assert services.outbox.path == db_path.with_name("history.db.outbox.jsonl")
        assert services.experiments.list_experiments() == []
    finally:
        services.close()


def test_with_history_off_nothing_is_opened_created_or_queued(db_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SQLITE_ENABLED", "false")
    services = build_services(load_settings(sqlite_db_path=db_path))

    assert services.history_off
    assert (services.repository, services.outbox, services.experiments) == (None, None, None)
    assert services.unavailable == HISTORY_OFF
    with pytest.raises(RepositoryError, match="SQLITE_ENABLED=false.*set SQLITE_ENABLED=true"):
        services.require_history()
    with pytest.raises(RepositoryError, match="SQLITE_ENABLED=false"):
        services.analytics()
    services.close()
    assert list(db_path.parent.iterdir()) == []


def test_a_history_that_cannot_be_opened_is_a_reason_not_an_error(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    services = build_services(load_settings(sqlite_db_path=tmp_path / "taken"))

    assert services.repository is None and services.experiments is None
    assert "taken is a directory" in services.unavailable
    assert services.outbox is not None  # an improvement still has somewhere to wait
    with pytest.raises(RepositoryError, match="taken is a directory"):
        services.require_history()


def test_the_analytics_client_is_made_once_on_first_use_and_stopped_with_the_services(db_path: Path) -> None:
    services = build_services(load_settings(sqlite_db_path=db_path))
    worker = services.analytics()
    assert services.analytics() is worker
    assert worker.pid is None  # made, not started: a command that never queries starts no process
    worker.start()
    assert worker.pid is not None
    services.close()
    assert worker.pid is None


def test_the_model_client_is_built_once_per_cache_choice(db_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("LLM_MODEL", "openai/some-model")
    monkeypatch.setenv("LLM_API_BASE", "http://127.0.0.1:9/v1")
    models = build_services(load_settings(sqlite_db_path=db_path)).models

    client = models.client()
    assert models.client() is client  # it remembers the output mode the server accepts
    assert models.client(cache=True) is not client
    assert models.judge() is None  # JUDGE_MODEL is unset


def test_without_a_model_the_factory_says_how_to_configure_one(db_path: Path) -> None:
    models = build_services(load_settings(sqlite_db_path=db_path)).models
    with pytest.raises(ModelNotConfigured, match="LLM_MODEL"):
        models.client()


def test_services_have_a_repository_or_the_reason_never_both(db_path: Path) -> None:
    built = build_services(load_settings(sqlite_db_path=db_path))
    with pytest.raises(ValueError, match="not both or neither"):
        Services(built.settings, built.repository, "a reason", None, built.breaker, None, built.models)
    with pytest.raises(ValueError, match="not both or neither"):
        Services(built.settings, None, None, None, built.breaker, None, built.models)
    built.close()


def test_database_url_gives_the_postgresql_history_and_its_experiments(postgres_url: str, db_path: Path) -> None:
    from store.postgres.experiments import PostgresExperimentRepository
    from store.postgres.repository import PostgresPromptRepository

    services = build_services(load_settings(sqlite_db_path=db_path, database_url=postgres_url))
    try:
        assert isinstance(services.repository, PostgresPromptRepository)
        assert isinstance(services.experiments, PostgresExperimentRepository)
        assert services.analytics().pid is None
    finally:
        services.close()
    assert not db_path.exists()  # the SQLite file is not touched
