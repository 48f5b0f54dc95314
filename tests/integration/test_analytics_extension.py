"""`python -m store.analytics.extension` (what `doctor` runs): the extension loads from the wheel, or the
failure says how to fix it. Each case runs in its own process, as `doctor` does."""

from __future__ import annotations

import os
import subprocess
import sys

import duckdb

# Import the check with the wheel's package made unimportable, as if it had never been installed.
WITHOUT_WHEEL = (
    "import runpy, sys; sys.modules['duckdb_extension_sqlite_scanner'] = None; "
    "runpy.run_module('store.analytics.extension', run_name='__main__')"
)


def run(args, env):
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, timeout=120)


def test_the_extension_loads_from_the_pinned_wheel_without_a_download(tmp_path):
    # An empty HOME: nothing installed in ~/.duckdb, so success can only come from the wheel.
    env = {**os.environ, "HOME": str(tmp_path)}
    env["PROMPT_IMPROVER_DUCKDB_EXTENSION_REPOSITORY"] = str(tmp_path / "no-repository")
    result = run(["-m", "store.analytics.extension"], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"ok: DuckDB {duckdb.__version__}")
    assert not (tmp_path / ".duckdb").exists()


def test_without_the_wheel_or_a_download_the_check_fails_and_names_the_fix(tmp_path):
    env = {**os.environ, "HOME": str(tmp_path)}
    env["PROMPT_IMPROVER_DUCKDB_EXTENSION_REPOSITORY"] = str(tmp_path / "no-repository")  # no network either
    result = run(["-c", WITHOUT_WHEEL], env)
    assert result.returncode == 1
    assert "duckdb_extension_sqlite_scanner is not installed" in result.stderr
    assert f"pip install duckdb-extension-sqlite-scanner=={duckdb.__version__}" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
