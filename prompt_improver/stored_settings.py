"""The settings every session and the CLI share, kept as text in the database's `app_settings` table.

The dashboard's Settings page writes them; the CLI's `prune` and the start-up auto-prune read them. One
pydantic model parses the stored text (a value that is absent takes the environment's default: SQLITE_*),
so a bad value is refused with its key and the text found, never guessed at.
"""

from __future__ import annotations

import logging
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from prompt_improver.settings import Settings
from store.errors import RepositoryError

logger = logging.getLogger(__name__)

MAX_RETENTION_DAYS = 36_500
FIX = "set it again on the dashboard's Settings page"


class InvalidStoredSetting(RepositoryError):
    """A value in the database's app_settings table cannot be parsed as its setting."""


class StoredSettings(BaseModel):
    """The shared settings, parsed: `retention_days` (whole days, 1 to 36,500) and `auto_cleanup` (bool).

    Booleans are stored as 'true'/'false'; pydantic also reads the other spellings it knows ('1', 'yes', …).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    retention_days: int = Field(ge=1, le=MAX_RETENTION_DAYS)
    auto_cleanup: bool

    @classmethod
    def load(cls, repo, settings: Settings) -> StoredSettings:
        """The stored values, each falling back to its environment setting when absent.

        Raises:
            InvalidStoredSetting: a stored value is not valid (the message names the key, the text and the fix).
            RepositoryError: the database cannot be read.
        """
        defaults = {"retention_days": settings.sqlite_retention_days, "auto_cleanup": settings.sqlite_auto_cleanup}
        stored = {key: repo.get_setting(key) for key in cls.model_fields}
        try:
            return cls.model_validate({key: defaults[key] if value is None else value for key, value in stored.items()})
        except ValidationError as error:
            key = str(error.errors()[0]["loc"][0])
            raise InvalidStoredSetting(f"the database setting {key!r} is {stored[key]!r}: {_reason(error)}; {FIX}") from None



def store_setting(repo, key: str, value: object) -> None:
    """Validate `value` as the setting `key` and store its text form.

    Raises:
        InvalidStoredSetting: `key` is not a shared setting or `value` is not valid for it.
        RepositoryError: the database cannot be written.
    """
    if key not in StoredSettings.model_fields:
        raise InvalidStoredSetting(f"{key!r} is not a stored setting; expected one of {sorted(StoredSettings.model_fields)}")
    field = StoredSettings.model_fields[key]
    try:
        parsed = TypeAdapter(Annotated[field.annotation, field]).validate_python(value)
    except ValidationError as error:
        raise InvalidStoredSetting(f"{key!r} cannot be {value!r}: {_reason(error)}") from None
    repo.set_setting(key, ("true" if parsed else "false") if isinstance(parsed, bool) else str(parsed))


def _reason(error: ValidationError) -> str:
    message = error.errors()[0]["msg"]  # e.g. "Input should be greater than or equal to 1"
    return message[0].lower() + message[1:]


def auto_prune_at_start(repo, settings: Settings) -> int | None:
    """Delete records older than the retention window if auto-cleanup is on.

    Returns:
        The number of records deleted, or None when auto-cleanup is off (the default: deleting a
        user's history must be a choice).

    Raises:
        InvalidStoredSetting: a stored value is not valid.
    """
    shared = StoredSettings.load(repo, settings)
    if not shared.auto_cleanup:
        return None
    deleted = repo.delete_older_than(shared.retention_days)
    logger.info("auto-cleanup deleted %d records older than %d days", deleted, shared.retention_days)
    return deleted
