"""The one parser for the date options of every command (`history`, `stats`, `export`): `--since`, `--until`.

Accepted: `YYYY-MM-DD` (a UTC day) or an ISO-8601 timestamp (`2026-01-03T10:15:00+00:00`, `...Z`, a space
for the `T`; UTC when no offset is given). Both ends are inclusive: a bare `--until` date covers that whole
day, a timestamp that instant.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from prompt_improver.errors import UsageError

DATE_FORMAT_HINT = "use YYYY-MM-DD or an ISO-8601 timestamp such as 2026-01-03T10:15:00+00:00 (UTC if no offset)"
LATEST = datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=timezone.utc)


@dataclass(frozen=True, slots=True)
class When:
    """A parsed `--since`/`--until`: the instant (aware, UTC) and whether it was given as a bare day."""

    moment: datetime
    whole_day: bool

    def exclusive_end(self) -> datetime:
        """The first instant after this bound when it ends a range (a whole day: the next midnight)."""
        try:
            return self.moment + (timedelta(days=1) if self.whole_day else timedelta(microseconds=1))
        except OverflowError:
            return LATEST

    def for_analytics(self) -> date:
        """The bound as the analytics take it: the day itself, or the instant as a naive UTC datetime."""
        return self.moment.date() if self.whole_day else self.moment.replace(tzinfo=None)


def parse_when(option: str, value: str) -> When:
    """`value` of `option` as a `When`.

    Raises:
        UsageError: naming the option, the value and the accepted forms.
    """
    text = value.strip()
    whole_day = "T" not in text.upper() and " " not in text
    try:
        if whole_day:
            day = date.fromisoformat(text)
            moment = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
            moment = moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        raise UsageError(f"{option}: {value!r} is not a date; {DATE_FORMAT_HINT}") from None
    return When(moment, whole_day)


def parse_range(since: str | None, until: str | None) -> tuple[When | None, When | None]:
    """`--since` and `--until` parsed, refusing a range that ends before it starts.

    Raises:
        UsageError: a value is not a date, or the range is empty.
    """
    start = parse_when("--since", since) if since else None
    end = parse_when("--until", until) if until else None
    if start is not None and end is not None and start.moment >= end.exclusive_end():
        raise UsageError(f"--since {since} is not before --until {until}; swap them")
    return start, end
