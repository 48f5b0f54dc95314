"""The dashboard's composition root: `build_services` once per configuration, cached for the process.

`services(config)` is an `st.cache_resource` keyed by the settings: a session in demo mode gets the demo
database's collaborators, everyone else the user's. What is cached holds paths, configuration or
thread-safe objects — never a shared sqlite3 or DuckDB connection (the repository keeps one connection per
thread, closed when the thread ends; DuckDB lives in the analytics worker's own process). A history that could not be opened is
not cached: the next run tries again.

Pipeline modules are imported inside the factories: DSPy and litellm cost seconds of CPU to import,
and the History, Analytics and Settings pages never need them.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st

from prompt_improver.models import ModelFactory
from prompt_improver.services import Services, build_services
from prompt_improver import wiring
from prompt_improver.settings import Settings, load_settings

log = logging.getLogger(__name__)

DEMO_ROWS = 20_000
DEMO_DAYS = 90


@st.cache_resource(show_spinner=False)
def settings() -> Settings:
    """The settings in force (environment and `.env`); raises SettingsError, which is not cached."""
    return load_settings()


class DataVersion:
    """A counter bumped whenever this app writes to a database, so cached query results keyed by it expire.

    Thread-safe: every session of the process shares one instance per database.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._value = 0

    @property
    def value(self) -> int:
        """The current version."""
        with self._lock:
            return self._value

    def bump(self) -> int:
        """Mark the database as changed; return the new version."""
        with self._lock:
            self._value += 1
            return self._value


@st.cache_resource(show_spinner=False)
def data_version(db_path: str) -> DataVersion:
    """The change counter of one database file."""
    return DataVersion()


def settings_for(base: Settings, db_path: Path) -> Settings:
    """`base` pointed at another database file (the demo database) with everything else unchanged."""
    if Path(db_path) == Path(base.sqlite_db_path):
        return base
    # The demo database is always an SQLite file, even when the user's history is on PostgreSQL.
    return base.model_copy(update={"sqlite_db_path": Path(db_path), "database_url": None})


def _close(built: Services) -> None:
    try:
        built.close()
    except Exception:  # noqa: BLE001 — releasing must never break a cache clear
        log.exception("closing the services of %s failed", built.settings.sqlite_db_path)


@st.cache_resource(show_spinner="Opening the database…", on_release=_close)
def _services(key: str, _config: Settings) -> Services:
    return build_services(_config)


def services(config: Settings) -> Services:
    """The collaborators `config` describes (`prompt_improver.services.build_services`), built once per process."""
    key = config.model_dump_json()
    built = _services(key, config)
    if built.repository is None and not built.history_off:
        _services.clear(key, config)  # a database that could not be opened: the next run retries
    return built


def for_database(db_path: str) -> Services:
    """The collaborators of `db_path`: the user's database or the demo database beside it."""
    return services(settings_for(settings(), Path(db_path)))


def history_location(db_path: str) -> str:
    """What the analytics read for `db_path`: DATABASE_URL when the user's history is on PostgreSQL, else the
    file itself (the demo database is always a file)."""
    return str(wiring.history_location(settings_for(settings(), Path(db_path))))


def experiments(db_path: str) -> Any:
    """The experiment repository of `db_path` (PostgreSQL's when it stands for DATABASE_URL), or None."""
    return for_database(db_path).experiments


def analytics_worker(db_path: str) -> Any:
    """The analytics worker of `db_path` (DuckDB never runs in this process: see STYLE.md).

    Raises:
        RepositoryError: history is off (SQLITE_ENABLED=false).
    """
    return for_database(db_path).analytics()


@st.cache_resource(show_spinner=False)
def _chosen_models(key: str, _config: Settings) -> ModelFactory:
    return ModelFactory(_config)


def models(config: Settings) -> ModelFactory:
    """The language models of `config`: the services' own, or for a model chosen on the Improve page (a
    configuration that differs only in its model) a factory cached for that configuration."""
    if config == settings():
        return services(config).models
    return _chosen_models(config.model_dump_json(), config)


@dataclass(frozen=True, slots=True)
class StartupReport:
    """What the start-up tasks did for one database: records replayed from the outbox, records pruned."""

    replayed: int = 0
    pruned: int = 0
    problem: str | None = None


def startup(built: Services) -> StartupReport:
    """Once per process and database: replay the outbox, then the opt-in auto-prune (nothing with history off
    or a database that cannot be opened)."""
    if built.repository is None:
        return StartupReport()
    return _startup(built.settings.model_dump_json(), built)


@st.cache_resource(show_spinner="Starting up…")
def _startup(key: str, _services: Services) -> StartupReport:
    from pipeline.errors import PipelineError
    from pipeline.service import replay_outbox_at_start
    from prompt_improver.stored_settings import auto_prune_at_start
    from store.errors import RepositoryError

    replayed = pruned = 0
    problem = None
    db_path = str(_services.settings.sqlite_db_path)
    try:
        replayed = replay_outbox_at_start(_services.repository, _services.outbox)
        pruned = auto_prune_at_start(_services.repository, _services.settings) or 0
    except (RepositoryError, PipelineError, OSError) as error:
        log.warning("start-up task failed for %s: %s", db_path, error)
        problem = str(error)
    if replayed or pruned:
        data_version(db_path).bump()
    return StartupReport(replayed, pruned, problem)


@st.cache_resource(show_spinner="Loading the prompt program…")
def program(backend: str, program_dir: str, k: int) -> tuple[Any, str]:
    """`(program, version)` for a backend; DSPy modules hold no per-call state, so sessions share them."""
    from pipeline.programs import load_program

    return load_program(backend, Path(program_dir), k)


def demo_path(user_db: Path) -> Path:
    """Where the demo database lives: beside the user's, never inside it."""
    user_db = Path(user_db)
    return user_db.with_name(user_db.stem + ".demo.db")


@st.cache_resource(show_spinner=f"Generating {DEMO_ROWS:,} demo records…")
def demo_database(path: str, _repo: Any) -> int:
    """Create the demo database once (rows over the last 90 days) and return its row count."""
    from prompt_improver.demo import generate_demo_records

    existing = _repo.health().row_count
    if existing:
        return existing
    stored = _repo.save_many(generate_demo_records(DEMO_ROWS, days=DEMO_DAYS, seed=7))
    data_version(path).bump()
    log.info("generated %d demo records in %s", stored, path)
    return stored
