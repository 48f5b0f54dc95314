"""Errors raised by the store. Each failure has one class; the message names the value and the fix."""


class RepositoryError(Exception):
    """A repository operation failed."""


class RepositoryConnectionError(RepositoryError):
    """The database cannot be created or opened (permissions, a directory, not a database, a newer schema)."""


class RepositoryConstraintError(RepositoryError):
    """A write violated a constraint of the stored schema."""


class InvalidRecord(ValueError):
    """A PromptHistory field holds a value the record's invariants refuse."""


class AnalyticsUnavailable(RepositoryError):
    """DuckDB's sqlite extension cannot be loaded, so analytics cannot run."""
