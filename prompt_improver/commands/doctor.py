"""`prompt-improver doctor`: what is in force and what works, with each problem's fix.

It reads the database as it is (no migration, nothing created) and checks DuckDB's sqlite extension in a
subprocess: this process has the file open through `sqlite3`, and DuckDB's scanner carries its own SQLite
copy; two copies in one process do not see each other's locks and corrupt the file.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from pipeline.endpoint import mask_url
from prompt_improver.settings import Settings
from store.errors import RepositoryError
from store.sqlite.schema import SCHEMA_VERSION
from store.sqlite.repository import SQLitePromptRepository

EXTENSION_CHECK_MODULE = "store.analytics.extension"
EXTENSION_CHECK_TIMEOUT_S = 120
LOW_FREE_BYTES = 16 * 1024 * 1024  # a few thousand records and their WAL; below it, say so before saves fail
SECRET_SUFFIXES = ("_key", "_secret", "_token", "_password")
PROVIDER_KEY_VARIABLES = (
    "OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GROQ_API_KEY", "MISTRAL_API_KEY",
    "OPENROUTER_API_KEY", "AZURE_API_KEY", "TOGETHERAI_API_KEY",
)


def run_doctor(settings: Settings) -> int:
    """Print what is in force and what works; return 1 if anything is broken, naming each problem's fix."""
    problems: list[tuple[str, str]] = []
    _print_settings(settings)
    _print_database(settings, problems)
    _print_outbox(settings, problems)
    _print_free_space(settings, problems)
    print("circuit breaker: kept per process; none runs in this CLI process")
    _print_extension(problems)
    _print_model(settings, problems)
    if not problems:
        print("status: ok")
        return 0
    print(f"status: {len(problems)} problem(s)")
    for problem, fix in problems:
        print(f"problem: {problem}", file=sys.stderr)
        print(f"  fix: {fix}", file=sys.stderr)
    return 1


def _print_settings(settings: Settings) -> None:
    env_file = Path(".env")
    print(f"settings (environment, then {env_file.resolve() if env_file.is_file() else 'no .env in this directory'}):")
    for name in type(settings).model_fields:
        print(f"  {name.upper():<24} {_show_setting(name, getattr(settings, name))}")
    for variable in PROVIDER_KEY_VARIABLES:
        if os.environ.get(variable):
            print(f"  {variable:<24} set (hidden)")


def _show_setting(name: str, value: object) -> str:
    if value is None:
        return "(not set)"
    if name.endswith(SECRET_SUFFIXES):
        return "set (hidden)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if name.endswith("_api_base") or name == "database_url":  # LLM_API_BASE, JUDGE_API_BASE, DATABASE_URL
        return mask_url(str(value))
    return str(value)


def _print_model(settings: Settings, problems: list[tuple[str, str]]) -> None:
    """Probe the configured model (a few seconds at most); without one, offer the local servers found."""
    from pipeline.lm import describe_model
    from pipeline.probe import discover_local_servers
    from prompt_improver.models import ModelFactory

    if settings.llm_model:
        result = ModelFactory(settings).probe()
        print(f"model: {describe_model(settings.llm_model, settings.llm_api_base)} — {result.state}: {result.message}")
        if not result.usable:
            listed = f" (the server lists: {', '.join(result.models[:10])})" if result.models else ""
            problems.append((f"the model cannot be used: {result.message}{listed}", result.fix))
        return
    print("model: not configured (set LLM_MODEL, see .env.example); history, prune and analytics work without it")
    servers = discover_local_servers()
    if not servers:
        print("  no OpenAI-compatible server found on 127.0.0.1 (ports 11434, 8080, 1234, 8000)")
        return
    for server in servers:
        print(f"  found {server.name} at {server.base_url} serving: {', '.join(server.models[:10])}")
        keep = server.settings_for(server.models[0])
        print("    to use it, put in .env: " + "  ".join(f"{name}={value}" for name, value in keep.items()))


def _print_database(settings: Settings, problems: list[tuple[str, str]]) -> None:
    if settings.database_url:
        from prompt_improver.commands.doctor_postgres import print_postgres

        print_postgres(settings, problems)
        return
    path = settings.sqlite_db_path
    print("database:")
    if not path.exists():
        print(f"  path            {path.resolve()} (not created yet; created on first use)")
        return
    try:
        # Read the file as it is: doctor reports, it does not migrate (health works on any schema version).
        health = SQLitePromptRepository(path, busy_timeout_ms=settings.sqlite_busy_timeout_ms).health()
    except RepositoryError as error:
        print(f"  path            {path.resolve()}")
        print("  status          cannot be opened")
        problems.append((f"database {str(path)!r} cannot be opened: {error}", _open_fix(str(error))))
        return
    print(f"  path            {Path(health.path).resolve()}")
    try:
        _refuse_foreign(path)
    except RepositoryError as error:
        print("  status          another application's database (no command writes into it)")
        problems.append((str(error).split("; ")[0], _open_fix(str(error))))
        return
    print(f"  file size       {format_size(health.file_bytes)}")
    print(f"  wal size        {format_size(health.wal_bytes)}")
    print(f"  rows            {health.row_count:,}")
    print(f"  schema version  {health.schema_version}")
    print(f"  journal mode    {health.journal_mode}")
    issues = [item.strip() for item in health.quick_check.replace("\n", "; ").split("; ") if item.strip()]
    issues = [item for item in issues if not item.startswith("*** in database")]
    quick_check_ok = health.quick_check == "ok"
    first_issue = issues[0] if issues else health.quick_check
    print(f"  quick_check     {'ok' if quick_check_ok else f'FAILED, {len(issues)} issue(s); first: {first_issue}'}")
    if health.invalid_text_count:
        ids = ", ".join(str(record_id) for record_id in health.invalid_text_ids)
        more = f" and {health.invalid_text_count - len(health.invalid_text_ids):,} more" if health.invalid_text_count > len(health.invalid_text_ids) else ""
        print(f"  invalid text    {health.invalid_text_count:,} record(s) not valid UTF-8: id {ids}{more}")
        problems.append(
            (
                f"{health.invalid_text_count:,} record(s) in {str(path)!r} hold text that is not valid UTF-8 (written "
                f"by another tool): id {ids}{more}; they are shown with U+FFFD (\ufffd) in place of the bad bytes",
                "every command still reads them; to repair them, look at them with `prompt-improver history --json` "
                "and correct or delete them in the sqlite3 shell",
            )
        )
    if health.schema_version > SCHEMA_VERSION:
        problems.append(
            (
                f"database {str(path)!r} has schema version {health.schema_version}, newer than the "
                f"{SCHEMA_VERSION} this prompt-improver knows",
                "upgrade prompt-improver (pip install -U prompt-improver, or git pull in a checkout)",
            )
        )
    elif health.schema_version < SCHEMA_VERSION:
        print(f"  (schema version {SCHEMA_VERSION} is current; the file is upgraded in place on next use)")
    if not quick_check_ok:
        problems.append(
            (
                f"database {str(path)!r} is damaged: PRAGMA quick_check reports {len(issues)} issue(s), "
                f"the first: {first_issue}",
                f"restore a backup, or recover the rows with `sqlite3 {path} .recover > recovered.sql`",
            )
        )


def _refuse_foreign(path: Path) -> None:
    # Read-only, as the rest of doctor: the same check every migrating command makes before writing.
    from contextlib import closing

    from store.sqlite.migrations import refuse_foreign

    with closing(sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)) as conn:
        refuse_foreign(conn, path, conn.execute("PRAGMA user_version").fetchone()[0])


def _open_fix(message: str) -> str:
    # The store's messages read "<what is wrong>; <the fix>". A file that is not a history needs another
    # path; any other cause (permissions, a lock, damage) needs its own fix, not a new file.
    if "is not an SQLite database" in message or "is a directory" in message or ";" not in message:
        return (
            "point SQLITE_DB_PATH (or --db) at a prompt history database, or move this file away so a new "
            "database is created"
        )
    return message.rsplit("; ", 1)[-1]


def _print_outbox(settings: Settings, problems: list[tuple[str, str]]) -> None:
    path = settings.outbox_path
    if not path.exists():
        print(f"outbox: empty ({path})")
        return
    try:
        with path.open(encoding="utf-8", errors="replace") as lines:
            waiting = sum(1 for line in lines if line.strip())
    except OSError as error:
        problems.append((f"outbox {str(path)!r} cannot be read: {error}", "check the file's permissions"))
        return
    print(f"outbox: {waiting:,} record(s) waiting to be stored ({path}); replayed after the next successful save")


def _print_free_space(settings: Settings, problems: list[tuple[str, str]]) -> None:
    # A full disk costs records: the store fails, and the outbox too when it shares the filesystem.
    places = (("outbox", settings.outbox_path),)  # a PostgreSQL server's disk is not this machine's
    if not settings.database_url:
        places = (("database", settings.sqlite_db_path), *places)
    for label, path in places:
        existing = next((folder for folder in (path, *path.absolute().parents) if folder.exists()), Path("/"))
        try:
            free = shutil.disk_usage(existing).free
        except OSError as error:
            print(f"free space ({label}): unknown ({error.strerror})")
            continue
        print(f"free space ({label}): {format_size(free)} on the filesystem of {existing}")
        if free < LOW_FREE_BYTES:
            problems.append((
                f"only {format_size(free)} free on the filesystem of the {label} ({existing}): new records "
                "cannot be stored" + (" and the outbox there cannot keep them" if label == "outbox" else ""),
                "free some space, or set OUTBOX_PATH to a file on another filesystem so records are kept",
            ))


def _print_extension(problems: list[tuple[str, str]]) -> None:
    # Never load DuckDB here (see the module docstring).
    if importlib.util.find_spec(EXTENSION_CHECK_MODULE) is None:
        print("duckdb sqlite extension: unknown (the check is not installed)")
        return
    try:
        result = subprocess.run(
            [sys.executable, "-m", EXTENSION_CHECK_MODULE],
            capture_output=True,
            text=True,
            timeout=EXTENSION_CHECK_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        print("duckdb sqlite extension: check failed")
        problems.append(
            (
                f"the DuckDB extension check could not run: {error}",
                f"run `{sys.executable} -m {EXTENSION_CHECK_MODULE}` to see why",
            )
        )
        return
    output = " ".join(line.strip() for line in (result.stdout + "\n" + result.stderr).splitlines() if line.strip())
    if result.returncode == 0:
        print(f"duckdb sqlite extension: loads{f' ({output})' if output else ''}")
        return
    print("duckdb sqlite extension: does not load")
    cause, _, fix = output.removeprefix("error: ").partition(" Fix: ")
    problems.append(
        (
            "DuckDB's sqlite extension does not load, so analytics cannot run" + (f": {cause}" if cause else ""),
            fix or _reinstall_hint(),
        )
    )


def _reinstall_hint() -> str:
    # The installed DuckDB's version from its metadata: importing duckdb here is what must not happen.
    try:
        version = importlib.metadata.version("duckdb")
    except importlib.metadata.PackageNotFoundError:
        return "install the pinned pair from pyproject.toml: pip install -e . (duckdb and duckdb-extension-sqlite-scanner)"
    return f"reinstall the pinned pair: pip install 'duckdb=={version}' 'duckdb-extension-sqlite-scanner=={version}'"


def format_size(count: int) -> str:
    """A byte count for people: `53.3 MB (55,873,536 B)`."""
    value = float(count)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{count:,} B" if unit == "B" else f"{value:.1f} {unit} ({count:,} B)"
        value /= 1024
    return f"{count:,} B"
