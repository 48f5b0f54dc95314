"""Fixtures shared by the integration tests: the CLI run in-process, and the evaluation set of `compare`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from prompt_improver.cli import main

COMPARE_IDEAS = [
    ("Plan a volunteer schedule for a food bank", "weekends, 30 volunteers"),
    ("Write a welcome email for new gym members", ""),
    ("Explain compound interest to teenagers", "personal finance class"),
    ("Draft a checklist for moving to a new office", "team of 15"),
]


@pytest.fixture
def run(capsys):
    """Run `prompt-improver ARGS...` in-process; return (exit code, stdout, stderr)."""

    def _run(*argv: str) -> tuple[int, str, str]:
        code = main([str(arg) for arg in argv])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return _run


@pytest.fixture
def eval_file(tmp_path: Path) -> Path:
    """A JSONL evaluation set of the four COMPARE_IDEAS (with their contexts)."""
    path = tmp_path / "ideas.jsonl"
    path.write_text("".join(json.dumps({"idea": i, "context": c}) + "\n" for i, c in COMPARE_IDEAS), encoding="utf-8")
    return path
