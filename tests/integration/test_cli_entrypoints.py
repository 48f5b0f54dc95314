"""Both ways of starting the command line report a bad argument as one line, without a traceback."""

import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    "command",
    [[sys.executable, "-m", "prompt_improver.cli"], [sys.executable, "-c",
                                                     "import sys; from prompt_improver.cli import main; sys.exit(main())"]],
    ids=["python -m", "console entry point"],
)
def test_a_bad_date_is_one_line_on_stderr_and_exit_1(command, tmp_path):
    result = subprocess.run(
        [*command, "history", "--since", "not-a-date", "--db", str(tmp_path / "h.db")],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "error: --since: 'not-a-date' is not a date; use YYYY-MM-DD or an ISO-8601 timestamp such as "
        "2026-01-03T10:15:00+00:00 (UTC if no offset)"
    ]
