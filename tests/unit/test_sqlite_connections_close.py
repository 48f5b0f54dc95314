"""A sqlite3 connection used directly as a context manager commits but never closes (its `with` is a
transaction): every connection in the code, the tests and the benchmarks is closed with `closing(...)`
(STYLE rule 5)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
UNCLOSED = re.compile(r"^\s*with\s+(sqlite3\.)?connect\(")
FOLDERS = ("store", "pipeline", "dashboard", "prompt_improver", "tests", "bench")


def test_no_sqlite_connection_is_used_as_a_context_manager_without_closing():
    found = []
    for folder in FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                if UNCLOSED.search(line) and not line.lstrip().startswith("#"):
                    found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert found == [], "use `with closing(sqlite3.connect(...)) as conn, conn:`\n" + "\n".join(found)
