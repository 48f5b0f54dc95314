"""Fixtures for the integration tests."""

from __future__ import annotations

import pytest

from prompt_improver.cli import main


@pytest.fixture
def run(capsys):
    """Run `prompt-improver ARGS...` in-process; return (exit code, stdout, stderr)."""

    def _run(*argv: str) -> tuple[int, str, str]:
        code = main([str(arg) for arg in argv])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return _run
