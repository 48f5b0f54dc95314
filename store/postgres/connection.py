"""Connections to PostgreSQL: the URL (its password never shown), the pool, and error translation.

psycopg's errors are turned into the store's own classes by `translate_errors`, with messages that name
the server by its masked URL and the fix, so the CLI and the pipeline catch only `RepositoryError`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from store.errors import RepositoryConnectionError, RepositoryConstraintError, RepositoryError
from store.postgres.urls import is_postgres_url, mask_url

__all__ = ["describe", "is_postgres_url", "mask_url", "open_pool", "translate_errors"]

logger = logging.getLogger(__name__)

MAX_POOL_SIZE = 8


def _scrub(text: str, url: str) -> str:
    password = urlsplit(url).password
    return text.replace(password, "***") if password else text


def open_pool(url: str, *, timeout_s: float = 5.0, max_size: int = MAX_POOL_SIZE) -> ConnectionPool:
    """A pool that connects on demand (no connection is made here) and hands one out within `timeout_s`.

    Connections are in autocommit mode: each operation opens its own transaction with
    `conn.transaction()`, so no transaction stays open between operations.
    """
    return ConnectionPool(
        url,
        min_size=0,
        max_size=max_size,
        timeout=timeout_s,
        kwargs={"autocommit": True, "connect_timeout": max(1, round(timeout_s))},
        open=True,
        name="prompt-history",
        # A pooled connection may have died with a server restart: check it before handing it out.
        check=ConnectionPool.check_connection,
    )


def describe(error: Exception, url: str) -> RepositoryError:
    """The store error for a psycopg or pool error on `url`; the message names the masked URL and the fix."""
    where = mask_url(url)
    text = _scrub(str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__, url)
    if isinstance(error, psycopg.errors.IntegrityError):
        return RepositoryConstraintError(f"a write to {where} violated a constraint: {text}")
    if isinstance(error, (psycopg.errors.InsufficientPrivilege,)):
        return RepositoryConnectionError(
            f"the user of {where} lacks a privilege ({text}); grant it (e.g. GRANT ALL ON SCHEMA public TO "
            "that user) or use the database owner in DATABASE_URL"
        )
    if isinstance(error, (PoolTimeout, psycopg.OperationalError)):
        return RepositoryConnectionError(
            f"cannot reach the PostgreSQL server at {where} ({text}); check that it runs and that DATABASE_URL's "
            "host, port, user, password and database are right"
        )
    return RepositoryError(f"PostgreSQL failed on {where}: {text}")


@contextmanager
def translate_errors(url: str) -> Iterator[None]:
    """Re-raise psycopg and pool errors as the store's errors (the original kept as `__cause__`)."""
    try:
        yield
    except (psycopg.Error, PoolTimeout) as error:
        raise describe(error, url) from error
    except UnicodeEncodeError as error:
        raise RepositoryConstraintError(
            f"a value for {mask_url(url)} is not valid unicode (a lone surrogate at index {error.start}); "
            "decode the text properly before saving"
        ) from error
