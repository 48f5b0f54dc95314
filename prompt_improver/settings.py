"""Settings from the environment and a `.env` file, with the original design's names.

Invalid values fail at construction with the setting's name (pydantic's ValidationError lists it);
`load_settings` turns that into a `SettingsError` with a one-line message per bad setting.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


SECRET_SUFFIXES = ("_KEY", "_SECRET", "_TOKEN", "_PASSWORD")


class SettingsError(ValueError):
    """A setting from the environment or `.env` has an invalid value."""


class Settings(BaseSettings):
    """Everything configurable. Field names map to upper-case environment variables."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # Store
    sqlite_enabled: bool = True
    sqlite_db_path: Path = Path("data/prompt_history.db")
    sqlite_retention_days: int = Field(default=30, ge=1, le=36_500)
    sqlite_auto_cleanup: bool = False
    sqlite_wal_mode: bool = True
    sqlite_busy_timeout_ms: int = Field(default=5_000, ge=0, le=600_000)
    # Records the store could not take; unset: beside the database (`<db>.outbox.jsonl`). Another
    # filesystem keeps them when the database's disk is full.
    outbox_path: Path | None = Field(default=None, validate_default=True)
    # A team's shared history: `postgresql://user:password@host:port/database`; unset, the SQLite file
    # above. Hidden from repr (it may carry a password); `doctor` shows it masked.
    database_url: str | None = Field(default=None, repr=False)
    database_timeout_s: float = Field(default=5.0, gt=0, le=600)

    # Model
    llm_model: str | None = None
    llm_api_base: str | None = None
    llm_api_key: str | None = None
    llm_timeout_s: float = Field(default=60.0, gt=0, le=3_600)
    llm_total_timeout_s: float = Field(default=120.0, gt=0, le=7_200)
    llm_max_retries: int = Field(default=3, ge=0, le=20)
    llm_temperature: float = Field(default=0.2, ge=0, le=2)
    llm_max_tokens: int = Field(default=2_000, ge=64, le=200_000)
    llm_cache: bool = False
    llm_concurrency: int = Field(default=4, ge=1, le=64)

    # Pairwise judge for Compare experiments (optional; timeout, retries and max tokens are the LLM_* ones)
    judge_model: str | None = None
    judge_api_base: str | None = None
    judge_api_key: str | None = None

    # Programs
    dspy_fewshot_enabled: bool = True
    dspy_fewshot_k: int = Field(default=4, ge=1, le=24)
    dspy_program_dir: Path = Path("data/programs")

    @field_validator("llm_model", "llm_api_base", "llm_api_key", "outbox_path", "database_url", "judge_model",
                     "judge_api_base", "judge_api_key", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        # `LLM_MODEL=` in a .env file means "not configured", not a model called "".
        if isinstance(value, str) and not value.strip():
            return None
        return value.strip() if isinstance(value, str) else value

    @field_validator("sqlite_db_path", mode="before")
    @classmethod
    def _a_database_file(cls, value: object) -> object:
        # `SQLITE_DB_PATH=` or `--db ''` would otherwise mean the current directory, `/` has no file name to
        # put the outbox and snapshot beside, and DuckDB (the analytics) can only open UTF-8 paths.
        text = str(value)
        example = "give a file such as data/prompt_history.db (with --db or SQLITE_DB_PATH)"
        if not text.strip():
            raise ValueError(f"the database path is empty; {example}")
        if Path(text).name in ("", ".", "..") or text.endswith(("/", "\\")):
            raise ValueError(f"{text!r} is a directory, not a database file; {example}")
        shown = not_utf8(text)
        if shown is not None:
            raise ValueError(
                f"the path '{shown}' is not valid UTF-8, which the analytics (DuckDB) cannot open; rename the "
                "file or its directory to a UTF-8 name, or give another file with --db or SQLITE_DB_PATH"
            )
        return value

    @field_validator("outbox_path", mode="after")
    @classmethod
    def _outbox_beside_the_database(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        # Always a path after validation: OUTBOX_PATH, or the default beside the database in force.
        db_path = info.data.get("sqlite_db_path")
        if value is None:
            # Not `with_name`: a path with no name (`.`, `/`) must reach the store, which names the problem.
            return None if db_path is None else Path(f"{db_path}.outbox.jsonl")
        if value.is_dir():
            raise ValueError(f"{value} is a directory; name a file such as {value / 'outbox.jsonl'}")
        if db_path is not None and _same_path(value, db_path):
            raise ValueError("is the database file itself; name another file (unset, it lives beside the database)")
        return value

    @field_validator("llm_api_base", "judge_api_base")
    @classmethod
    def _usable_url(cls, value: str | None) -> str | None:
        from pipeline.endpoint import parse_endpoint

        if value is not None:
            parse_endpoint(value)  # InvalidEndpoint is a ValueError: pydantic reports it with the name
        return value

    @field_validator("database_url", mode="after")
    @classmethod
    def _a_postgres_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("postgresql://", "postgres://")):
            raise ValueError(
                "must be a postgresql://user:password@host:port/database URL; unset it to keep the history in "
                "SQLITE_DB_PATH"
            )
        return value


def _same_path(first: Path, second: Path) -> bool:
    try:
        return first.absolute().resolve() == second.absolute().resolve()
    except (OSError, RuntimeError):  # a symlink loop: not provably the same file; the store names it later
        return False


def not_utf8(path: str) -> str | None:
    """None when `path` is valid UTF-8; else the path with its undecodable bytes shown as `\\xNN` (a file
    name from the command line keeps them as surrogates, which no UTF-8 text can hold)."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return None


def load_settings(**overrides: object) -> Settings:
    """Build Settings from the environment, `.env` and `overrides`.

    Raises:
        SettingsError: naming each invalid setting by its environment variable and the problem.
    """
    try:
        return Settings(**overrides)
    except ValidationError as error:
        from pipeline.endpoint import mask_url

        problems = []
        for item in error.errors():
            name = "_".join(str(part) for part in item["loc"]).upper() or "settings"
            shown = "(hidden)" if name.endswith(SECRET_SUFFIXES) else mask_url(repr(item.get("input")))
            message = mask_url(item["msg"]).removeprefix("Value error, ")
            problems.append(f"{name}: {message} (got {shown})")
        raise SettingsError("invalid setting(s): " + "; ".join(problems)) from None

