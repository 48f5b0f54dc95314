"""The store: the domain record and the ports, with their adapters in subpackages.

This folder holds the domain and the ports, standard library only: the record (`record`, `judge_verdicts`),
the repository ports (`repository`, `experiments`), the errors (`errors`), timestamps, the rules every
adapter applies to a query (`query_rules`, with `RecordFilter`: a listing's filter as SQL or as a predicate), the search syntax (`search_query`), the removal of dead
writers' temporary files (`leftovers`) and the in-memory fakes (`memory`). Adapters live beside it:
`store.sqlite` (the history file), `store.postgres` (a team's database) and `store.analytics` (the read
side, DuckDB). The domain modules import none of them.

Importing this package opens nothing and imports neither an adapter nor DuckDB: the adapter and the fake
are imported on first attribute access.
"""

from store.errors import (
    AnalyticsUnavailable,
    InvalidRecord,
    RepositoryConnectionError,
    RepositoryConstraintError,
    RepositoryError,
)
from store.record import BackendType, PromptHistory
from store.repository import DatabaseHealth, HistoryStatistics, PromptRepository

__all__ = [
    "AnalyticsUnavailable",
    "BackendType",
    "DatabaseHealth",
    "HistoryStatistics",
    "InMemoryPromptRepository",
    "InvalidRecord",
    "PromptHistory",
    "PromptRepository",
    "RepositoryConnectionError",
    "RepositoryConstraintError",
    "RepositoryError",
    "SQLitePromptRepository",
]


def __getattr__(name: str):
    # The adapter lives in its own module; importing it lazily keeps `import store` cheap and free of I/O.
    if name == "SQLitePromptRepository":
        from store.sqlite.repository import SQLitePromptRepository

        return SQLitePromptRepository
    if name == "InMemoryPromptRepository":
        from store.memory import InMemoryPromptRepository

        return InMemoryPromptRepository
    raise AttributeError(f"module 'store' has no attribute {name!r}")
