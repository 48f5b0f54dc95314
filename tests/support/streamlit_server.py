"""`streamlit run dashboard/app.py` in its own process group, for tests that drive the app over HTTP.

    with StreamlitServer({"SQLITE_DB_PATH": str(db), "LLM_MODEL": "openai/fake-model"}) as app:
        page.goto(app.url)

The server runs from the repository root on 127.0.0.1 and a free port, headless (the theme comes from
`dashboard/.streamlit/config.toml`, beside the entrypoint). Starting waits until `/_stcore/health` answers; leaving the `with` block
terminates the whole process group (Streamlit and the analytics worker it spawns), then kills it if it
has not exited, so nothing outlives the test. The server's output goes to a log file whose tail is in the
error raised when the server does not come up.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "dashboard" / "app.py"
START_TIMEOUT_S = 60.0  # a cold start imports pandas, altair and pyarrow; CI machines can be slow
STOP_TIMEOUT_S = 10.0


class StreamlitServerError(RuntimeError):
    """The Streamlit server exited or never answered its health check."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class StreamlitServer:
    """The dashboard served by a real `streamlit run`, as a context manager.

    Args:
        env: variables added to (or replacing) the current environment, e.g. SQLITE_DB_PATH, LLM_MODEL.
        log_path: where the server's stdout and stderr go (a temporary file beside nothing if omitted).
        python: the interpreter that runs Streamlit (this one by default).
        cwd: the working directory (the repository root by default); the app reads `.env` from there, and
            relative paths in `env` are relative to it.
        command: the command line for a port, instead of `streamlit run` (e.g. `prompt-improver dashboard`).
    """

    def __init__(
        self, env: Mapping[str, str], *, log_path: Path | None = None, python: str = sys.executable,
        cwd: Path = ROOT, command: Callable[[int], list[str]] | None = None,
    ) -> None:
        self.command = command
        self.env = dict(env)
        self.cwd = Path(cwd)
        self.log_path = log_path
        self.python = python
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._log = None

    @property
    def url(self) -> str:
        """`http://127.0.0.1:PORT` (no trailing slash)."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> StreamlitServer:
        """Start the server and wait until its health check answers.

        Raises:
            StreamlitServerError: the process exited, or did not answer within START_TIMEOUT_S.
        """
        self.port = free_port()
        if self.log_path is None:
            import tempfile

            handle, name = tempfile.mkstemp(prefix="streamlit-", suffix=".log")
            os.close(handle)
            self.log_path = Path(name)
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        command = self.command(self.port) if self.command else [
            self.python, "-m", "streamlit", "run", str(APP),
            "--server.address", "127.0.0.1",
            "--server.port", str(self.port),
            "--server.headless", "true",
            "--server.runOnSave", "false",
            "--server.fileWatcherType", "none",
            "--browser.gatherUsageStats", "false",
        ]
        environment = {**os.environ, **self.env, "PYTHONUNBUFFERED": "1"}
        self._process = subprocess.Popen(  # noqa: S603 - our own command line
            command, cwd=self.cwd, env=environment, stdout=self._log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,  # its own process group: stop() ends them all
        )
        try:
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        health = f"{self.url}/_stcore/health"
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise StreamlitServerError(
                    f"streamlit exited with code {self._process.returncode} before answering:\n{self.log_tail()}"
                )
            try:
                with urllib.request.urlopen(health, timeout=2) as response:  # noqa: S310 - 127.0.0.1 only
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            time.sleep(0.2)  # polling interval, not an assumption about how long the start takes
        raise StreamlitServerError(f"streamlit did not answer {health} in {START_TIMEOUT_S:g} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        """The last lines the server printed (for failure messages)."""
        if self._log is not None:
            self._log.flush()
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM the process group, wait, SIGKILL what is left; close the log."""
        process, self._process = self._process, None
        if process is not None:
            _signal_group(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                pass
            # The analytics worker is in the same group and may outlive its parent by a moment.
            _signal_group(process.pid, signal.SIGKILL)
            if process.poll() is None:
                process.wait(timeout=STOP_TIMEOUT_S)
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> StreamlitServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass  # the group is already gone
