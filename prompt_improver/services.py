"""The one builder both entry points share: settings in, every collaborator out, by plain constructors.

    services = build_services(load_settings())
    outcome = improve(idea, program=..., lm=services.models.client(), repo=services.repository,
                      repo_error=services.unavailable, outbox=services.outbox, breaker=services.breaker, ...)

The CLI builds it per command; the dashboard caches it once per configuration (`dashboard/composition.py`).
Nothing happens at import. `build_services` opens (and migrates) the history unless SQLITE_ENABLED=false,
when nothing is opened, created or queued: no repository, no outbox, no experiments. The analytics client
is made on first use: a command that never asks for it never starts a worker process.

The CLI's `stats` and `export` do not come here: they run DuckDB in their own process on purpose and must
never open the file through sqlite3 (which `build_services` does); they read `history_location` only.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prompt_improver.models import ModelFactory
from prompt_improver.settings import Settings
from prompt_improver.wiring import history_location, open_experiments, open_repository
from store.errors import RepositoryConnectionError, RepositoryError

logger = logging.getLogger(__name__)

HISTORY_OFF = "history is turned off (SQLITE_ENABLED=false)"


class _AnalyticsClient:
    """The analytics worker for one history location, started on first use and closed with the services."""

    def __init__(self, location: str | Path) -> None:
        self.location = location
        self._lock = threading.Lock()
        self._worker: Any = None

    def get(self) -> Any:
        with self._lock:
            if self._worker is None:
                from store.analytics.worker import AnalyticsWorker  # DuckDB-free: DuckDB runs in its process

                self._worker = AnalyticsWorker(self.location)
            return self._worker

    def close(self) -> None:
        with self._lock:
            worker, self._worker = self._worker, None
        if worker is not None:
            worker.close()


@dataclass(frozen=True, slots=True)
class Services:
    """What an entry point works with, for one configuration.

    Attributes:
        settings: the configuration they were built from.
        repository: the prompt history, or None (see `unavailable`).
        unavailable: why `repository` is None: HISTORY_OFF, or the error that stopped opening it.
        outbox: where records wait when the store cannot take them (None with history off).
        breaker: the store's circuit breaker.
        experiments: the Compare experiments beside the history (None when it is not open).
        models: settings -> language models.
    """

    settings: Settings
    repository: Any | None
    unavailable: str | None
    outbox: Any | None
    breaker: Any
    experiments: Any | None
    models: ModelFactory
    _analytics: _AnalyticsClient | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if (self.repository is None) == (self.unavailable is None):
            raise ValueError(f"give a repository or the reason there is none, not both or neither: {self.unavailable!r}")

    @property
    def history_off(self) -> bool:
        """Whether the user turned history off (SQLITE_ENABLED=false): nothing is stored or queued."""
        return not self.settings.sqlite_enabled

    def require_history(self) -> Any:
        """The repository, for a command that cannot work without one.

        Raises:
            RepositoryError: history is off or the database cannot be opened (the message says which).
        """
        if self.history_off:
            raise RepositoryError(f"this needs the history, and {HISTORY_OFF}; set SQLITE_ENABLED=true to use it")
        if self.repository is None:
            raise RepositoryConnectionError(self.unavailable)  # the opening error's own message
        return self.repository

    def analytics(self) -> Any:
        """The analytics client (`store.analytics.worker.AnalyticsWorker`: DuckDB runs in its own process).

        Raises:
            RepositoryError: history is off (there is nothing to analyse and no file may be created).
        """
        if self._analytics is None:
            raise RepositoryError(f"no analytics: {HISTORY_OFF}")
        return self._analytics.get()

    def close(self) -> None:
        """Stop the analytics worker and release the repository's idle connection (a CLI command's end)."""
        if self._analytics is not None:
            self._analytics.close()
        if self.repository is not None:
            self.repository.close()


def build_services(settings: Settings, *, models: ModelFactory | None = None) -> Services:
    """Build every collaborator the settings describe.

    A history that cannot be opened is not an error here: `repository` is None and `unavailable` says why,
    so an improvement still works (its record waits in the outbox).

    Args:
        models: the settings' model factory when the caller made it first (the CLI's `improve` builds the
            model before it touches the database, so a missing LLM_MODEL creates no file).
    """
    from pipeline.breaker import CircuitBreaker  # pipeline modules that import neither DSPy nor litellm
    from pipeline.outbox import Outbox

    models, breaker = models or ModelFactory(settings), CircuitBreaker()
    if not settings.sqlite_enabled:
        return Services(settings, None, HISTORY_OFF, None, breaker, None, models)
    outbox = Outbox(settings.outbox_path)
    analytics = _AnalyticsClient(history_location(settings))
    try:
        repository = open_repository(settings)
    except RepositoryError as error:
        logger.debug("the history cannot be opened: %s", error)  # the caller shows `unavailable`
        return Services(settings, None, str(error), outbox, breaker, None, models, analytics)
    experiments = open_experiments(settings, repository)
    return Services(settings, repository, None, outbox, breaker, experiments, models, analytics)
