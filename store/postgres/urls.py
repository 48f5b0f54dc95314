"""PostgreSQL URLs without psycopg: recognising one, and hiding its password. Standard library only."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

SCHEMES = ("postgresql", "postgres")


def is_postgres_url(text: object) -> bool:
    """Whether `text` is a `postgresql://` (or `postgres://`) URL rather than an SQLite file path."""
    return isinstance(text, str) and "://" in text and urlsplit(text).scheme in SCHEMES


def mask_url(url: str) -> str:
    """`url` with its password replaced by `***` (what every message and `doctor` show)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))
