"""The dashboard's composition root: every collaborator built once per process, by plain constructors.

Each factory is an `st.cache_resource` holding paths, configuration or a thread-safe object — never a
shared sqlite3 or DuckDB connection (the repository opens a connection per operation; DuckDB lives in
the analytics worker's own process). Arguments are plain values so the cache key is the configuration:
a session in demo mode gets the demo database's objects, everyone else the user's.

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


def history_location(db_path: str) -> str:
    """What the analytics read for `db_path`: DATABASE_URL when that is set and `db_path` is the user's
    own database (the key every cache uses for it), else the file itself (the demo database)."""
    config = settings()
    if config.database_url and Path(db_path) == Path(config.sqlite_db_path):
        return config.database_url
    return db_path


def experiments(db_path: str, busy_timeout_ms: int) -> Any:
    """The experiment repository of `db_path` (PostgreSQL's when it stands for DATABASE_URL)."""
    from prompt_improver.wiring import open_experiments

    config = settings()
    if history_location(db_path) != db_path:
        return open_experiments(config, repository(db_path, config.sqlite_wal_mode, busy_timeout_ms, config))
    from store.sqlite.experiments import SQLiteExperimentRepository

    return SQLiteExperimentRepository(db_path, busy_timeout_ms)


@st.cache_resource(show_spinner="Opening the database…")
def repository(db_path: str, wal: bool, busy_timeout_ms: int, _settings: Settings) -> Any:
    """The SQLite repository for `db_path`, migrated to the current schema once per process.

    Raises:
        RepositoryConnectionError: the file cannot be created or opened (not cached: the next run retries).
    """
    from prompt_improver.wiring import open_repository

    return open_repository(_settings)


@st.cache_resource(show_spinner=False)
def outbox(path: str) -> Any:
    """The append-only outbox beside a database (records that could not be stored yet)."""
    from pipeline.outbox import Outbox

    return Outbox(Path(path))


@st.cache_resource(show_spinner=False)
def breaker(db_path: str) -> Any:
    """The store's circuit breaker for one database, shared by every session of the process."""
    from pipeline.breaker import CircuitBreaker

    return CircuitBreaker()


@dataclass(frozen=True, slots=True)
class StartupReport:
    """What the start-up tasks did for one database: records replayed from the outbox, records pruned."""

    replayed: int = 0
    pruned: int = 0
    problem: str | None = None


@st.cache_resource(show_spinner="Starting up…")
def startup(db_path: str, _repo: Any, _settings: Settings) -> StartupReport:
    """Once per process and database: replay the outbox, then the opt-in auto-prune."""
    from pipeline.errors import PipelineError
    from pipeline.service import replay_outbox_at_start
    from prompt_improver.wiring import auto_prune_at_start
    from store.errors import RepositoryError

    replayed = pruned = 0
    problem = None
    try:
        replayed = _count(replay_outbox_at_start(_repo, outbox(str(_settings.outbox_path))))
        pruned = _count(auto_prune_at_start(_repo, _settings))
    except (RepositoryError, PipelineError, OSError) as error:
        log.warning("start-up task failed for %s: %s", db_path, error)
        problem = str(error)
    if replayed or pruned:
        data_version(db_path).bump()
    return StartupReport(replayed, pruned, problem)


def _count(value: object) -> int:
    # The start-up helpers return a count, a report with a count, or None when they did nothing.
    if isinstance(value, bool) or value is None:
        return 0
    if isinstance(value, int):
        return value
    for name in ("replayed", "deleted", "pruned", "count"):
        inner = getattr(value, name, None)
        if isinstance(inner, int) and not isinstance(inner, bool):
            return inner
    return 0


def _release_worker(worker: Any) -> None:
    try:
        worker.close()
    except Exception:  # noqa: BLE001 — releasing must never break a cache clear
        log.exception("closing the analytics worker failed")


@st.cache_resource(show_spinner=False, on_release=_release_worker)
def analytics_worker(db_path: str) -> Any:
    """The analytics worker process for `db_path` (DuckDB never runs in this process: see STYLE.md)."""
    from store.analytics.worker import AnalyticsWorker

    return AnalyticsWorker(history_location(db_path))


@st.cache_resource(show_spinner="Loading the language model client…")
def language_model(
    model: str, api_base: str | None, api_key: str | None, timeout_s: float, total_timeout_s: float,
    max_retries: int, temperature: float, max_tokens: int, cache: bool,
) -> Any:
    """The `ModelClient` for a configuration, shared by every session: it remembers for the process which
    output mode the server accepts (raises ModelNotConfigured, not cached)."""
    from pipeline.model_client import build_model_client

    return build_model_client(
        model, api_base=api_base, api_key=api_key, timeout_s=timeout_s, total_timeout_s=total_timeout_s,
        max_retries=max_retries, temperature=temperature, max_tokens=max_tokens, cache=cache,
    )


def lm_for(config: Settings) -> Any:
    """The model client the settings ask for."""
    return language_model(
        config.llm_model or "", config.llm_api_base, config.llm_api_key, config.llm_timeout_s,
        config.llm_total_timeout_s, config.llm_max_retries, config.llm_temperature, config.llm_max_tokens,
        config.llm_cache,
    )


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
def demo_database(path: str, _settings: Settings) -> int:
    """Create the demo database once (rows over the last 90 days) and return its row count."""
    from prompt_improver.demo import generate_demo_records

    repo = repository(path, _settings.sqlite_wal_mode, _settings.sqlite_busy_timeout_ms, _settings)
    existing = repo.health().row_count
    if existing:
        return existing
    stored = repo.save_many(generate_demo_records(DEMO_ROWS, days=DEMO_DAYS, seed=7))
    data_version(path).bump()
    log.info("generated %d demo records in %s", stored, path)
    return stored
