"""Start and stop the real local model (`../shared/llm/serve PORT`: llama.cpp's server with SmolLM2-135M).

Used by the real-model test tier and `bench/bench_real_model.py`.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SERVE_ENV = "PROMPT_IMPROVER_LLM_SERVE"
START_TIMEOUT_S = 180  # the first start unpacks the server and the model (~30 s on an idle machine)


class LocalModelFailed(RuntimeError):
    """The local model server did not become healthy."""


def serve_script() -> Path:
    """`<repo root>/../shared/llm/serve` (CI clones the repository beside `shared/`), or PROMPT_IMPROVER_LLM_SERVE."""
    return Path(os.environ.get(SERVE_ENV) or REPO_ROOT.parent / "shared" / "llm" / "serve")


def missing_reason(script: Path) -> str | None:
    """Why the local model cannot be started here, or None when it can."""
    if not script.is_file() or not os.access(script, os.X_OK):
        return f"no local model: {script} is missing (set {SERVE_ENV} to the llama.cpp serve script)"
    return None


def free_port() -> int:
    """A port nothing listens on now (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
            return response.status == 200
    except (OSError, urllib.error.URLError):
        return False


@contextmanager
def local_model(script: Path, log: Path, port: int | None = None) -> Iterator[str]:
    """Run the server until the block ends; yield its base URL (`http://127.0.0.1:PORT/v1`).

    Raises:
        LocalModelFailed: it exited or was not healthy within START_TIMEOUT_S (the message ends with its log).
    """
    port = port or free_port()
    with log.open("wb") as output:
        # Its own process group: the script execs llama-server, and the group is what we stop.
        process = subprocess.Popen([str(script), str(port)], stdout=output, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _healthy(port):
            if process.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-2000:]
                raise LocalModelFailed(f"the local model did not start on port {port} (exit {process.poll()}):\n{tail}")
            time.sleep(0.5)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
