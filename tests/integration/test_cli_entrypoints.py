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


@pytest.mark.parametrize(("args", "message"), [
    (["--port", "0"], "error: --port must be from 1 to 65535, got 0"),
    (["--host", " "], "error: --host is empty; name an address such as 127.0.0.1, or 0.0.0.0 for every interface"),
])
def test_dashboard_refuses_a_bad_port_or_host_in_one_line(args, message):
    result = subprocess.run([sys.executable, "-m", "prompt_improver.cli", "dashboard", *args],
                            capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stderr.strip()) == (1, message)


def test_dashboard_binds_loopback_unless_host_is_given_and_keeps_the_settings_out_of_the_flags():
    from prompt_improver.commands.dashboard_command import streamlit_command

    default = streamlit_command(8501, None)
    assert default[default.index("--server.address") + 1] == "127.0.0.1"
    assert default[default.index("--browser.gatherUsageStats") + 1] == "false"
    assert default[default.index("--server.headless") + 1] == "true"
    chosen = streamlit_command(8600, "0.0.0.0")
    assert (chosen[chosen.index("--server.address") + 1], chosen[chosen.index("--server.port") + 1]) == ("0.0.0.0", "8600")
