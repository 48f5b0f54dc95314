"""Prompt history: the domain record, the repository port, its SQLite adapter and the read-only analytics.

Importing this package opens nothing and imports neither sqlite3 adapters' dependencies nor DuckDB
eagerly: the adapter and the analytics are imported on first attribute access.
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
        from store.sqlite_repository import SQLitePromptRepository

        return SQLitePromptRepository
    if name == "InMemoryPromptRepository":
        from store.memory import InMemoryPromptRepository

        return InMemoryPromptRepository
    raise AttributeError(f"module 'store' has no attribute {name!r}")
