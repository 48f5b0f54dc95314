"""The folders are the architecture: each package imports only what its `__init__` docstring allows.

Read from the source with `ast` (every import, inside functions too), so a forbidden import fails here
before it can matter at run time. The rule that DuckDB never loads in a process that opens the history
through `sqlite3` is checked by running processes (tests/integration/test_analytics_process_isolation.py,
tests/app/test_dashboard_process_isolation.py); this module checks the layers around it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ADAPTERS = ("store.sqlite", "store.postgres", "store.analytics")
DRIVERS = ("sqlite3", "duckdb", "psycopg", "psycopg_pool", "pandas")


def imports_of(path: Path) -> set[str]:
    """Every module name `path` imports, at any depth (relative imports are not used in this project)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def modules(folder: str, *, recursive: bool = False) -> list[Path]:
    pattern = "**/*.py" if recursive else "*.py"
    return sorted((ROOT / folder).glob(pattern))


def forbidden(paths: list[Path], prefixes: tuple[str, ...]) -> dict[str, list[str]]:
    found = {}
    for path in paths:
        bad = sorted(name for name in imports_of(path) if under(name, prefixes))
        if bad:
            found[str(path.relative_to(ROOT))] = bad
    return found


def test_the_store_domain_modules_import_no_adapter_and_no_driver():
    # store/__init__.py names the adapter and the fake lazily (PEP 562) so `from store import ...` keeps working.
    domain = [path for path in modules("store") if path.name != "__init__.py"]
    assert forbidden(domain, (*ADAPTERS, *DRIVERS, "pipeline", "prompt_improver", "dashboard")) == {}


def test_the_sqlite_adapter_imports_neither_duckdb_nor_the_other_adapters():
    assert forbidden(modules("store/sqlite"), ("store.analytics", "store.postgres", "duckdb", "psycopg")) == {}


def test_the_postgres_adapter_imports_neither_sqlite_nor_duckdb():
    assert forbidden(modules("store/postgres"), ("store.analytics", "store.sqlite", "sqlite3", "duckdb")) == {}


def test_the_pipeline_reaches_the_store_only_through_its_ports():
    found = forbidden(
        modules("pipeline", recursive=True), (*ADAPTERS, "sqlite3", "duckdb", "psycopg", "prompt_improver", "dashboard")
    )
    assert found == {}


@pytest.mark.parametrize("module", ["api", "worker", "errors", "ranges", "history_file", "csv_cells"])
def test_the_analytics_client_half_imports_no_duckdb_module(module):
    # The client half may start the engine in its child process (an import inside the child's entry function);
    # at module level it imports nothing from the DuckDB half.
    tree = ast.parse((ROOT / "store" / "analytics" / f"{module}.py").read_text(encoding="utf-8"))
    top_level = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            top_level.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            top_level.update({node.module} | {f"{node.module}.{alias.name}" for alias in node.names})
    duckdb_half = ("duckdb", "store.analytics.engine", "store.analytics.read_model", "store.analytics.reports",
                   "store.analytics.queries", "store.analytics.extension", "store.analytics.snapshot")
    assert sorted(name for name in top_level if under(name, duckdb_half)) == []
