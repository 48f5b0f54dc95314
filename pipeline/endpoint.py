"""The model server's address: validated, its credentials split off, and shown with the secret masked.

`LLM_API_BASE=http://user:pass@host/v1` is how a server behind a reverse proxy with basic authentication is
written. The OpenAI-compatible clients read `user:pass@host` as the host name, so the credentials are taken
out of the URL and sent as an `Authorization: Basic` header instead; the password is never shown (errors,
`doctor`, the Settings page, logs all use `store.masking.mask_url`, re-exported here). Standard library only (and `store.masking`, itself standard library only).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit, urlunsplit

from store.masking import MASK, mask_url

__all__ = ["MASK", "Endpoint", "InvalidEndpoint", "mask_secrets", "mask_url", "parse_endpoint"]


class InvalidEndpoint(ValueError):
    """LLM_API_BASE is not a usable http(s) URL."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A server address without credentials, and the basic-auth credentials that were in it (if any)."""

    url: str
    username: str | None = None
    password: str | None = None

    @property
    def basic_auth_header(self) -> str | None:
        """`Basic <base64>` for the credentials, or None when the URL carried none."""
        if self.username is None:
            return None
        token = f"{self.username}:{self.password or ''}".encode()
        return "Basic " + base64.b64encode(token).decode("ascii")


def parse_endpoint(url: str) -> Endpoint:
    """Split `http://user:pass@host:port/path` into the plain URL and the credentials.

    Raises:
        InvalidEndpoint: not an http(s) URL with a host (e.g. `http://[::1` or `127.0.0.1:8080/v1`); the
            message shows the URL with any password masked.
    """
    text = url.strip()
    try:
        parts = urlsplit(text)
        port = parts.port  # raises for a port that is not a number or out of range
    except ValueError as error:
        raise InvalidEndpoint(f"{mask_url(text)!r} is not a valid URL ({error})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidEndpoint(
            f"{mask_url(text)!r} is not an http(s) URL with a host; write it like http://127.0.0.1:11434/v1"
        )
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    netloc = host + (f":{port}" if port is not None else "")
    plain = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    if parts.username is None and parts.password is None:
        return Endpoint(plain)
    return Endpoint(plain, unquote(parts.username or ""), unquote(parts.password or ""))


def mask_secrets(text: str, *secrets: str | None) -> str:
    """`text` with URL passwords masked and each given secret (a password, a key) replaced by `***`."""
    masked = mask_url(text)
    for secret in secrets:
        if secret and len(secret) >= 3:
            masked = masked.replace(secret, MASK)
    return masked
