"""PostgreSQL URLs without psycopg: recognising one, and hiding its password. Standard library only."""

from __future__ import annotations

from urllib.parse import urlsplit

from store.masking import mask_url

__all__ = ["SCHEMES", "is_postgres_url", "mask_url"]

SCHEMES = ("postgresql", "postgres")


def is_postgres_url(text: object) -> bool:
    """Whether `text` is a `postgresql://` (or `postgres://`) URL rather than an SQLite file path."""
    return isinstance(text, str) and "://" in text and urlsplit(text).scheme in SCHEMES
