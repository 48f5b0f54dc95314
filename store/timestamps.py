"""The one timestamp format the store writes: ISO-8601, UTC, microseconds, `+00:00`.

String range filters and DuckDB's TIMESTAMP cast both depend on every stored value having exactly
this shape (`2026-01-03T10:15:42.123456+00:00`), so all writes go through `to_iso`.
"""

from datetime import datetime, timezone

ISO_FORMAT = "%Y-%m-%dT%H:%M:%S.%f+00:00"


def utc_now() -> datetime:
    """Return the current time as a timezone-aware UTC datetime."""
    return datetime.now(timezone.utc)


def to_iso(moment: datetime) -> str:
    """Format an aware datetime as the store's fixed ISO-8601 UTC text.

    Raises:
        ValueError: if `moment` is naive (its zone would be a guess).
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"timestamp must be timezone-aware, got naive {moment!r}")
    # isoformat, not strftime(ISO_FORMAT): glibc's %Y does not zero-pad years before 1000 ("5-01-01..."),
    # which would break the fixed width that string range filters and the schema's CHECK rely on.
    return moment.astimezone(timezone.utc).replace(tzinfo=None).isoformat(timespec="microseconds") + "+00:00"


def from_iso(text: str) -> datetime:
    """Parse stored ISO-8601 text into an aware UTC datetime (naive text is read as UTC)."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)
