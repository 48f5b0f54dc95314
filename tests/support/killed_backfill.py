"""A search-index back-fill run in a child process and SIGKILLed after a few batches, as a user's Ctrl-C or
an OOM kill would stop it (both adapters' resume tests)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_CHILD = """
import sys, time
from pathlib import Path
from store.{adapter}.search_index import backfill
def slow(state):
    print(state.done, flush=True)
    time.sleep(0.05)
backfill({target}, batch_rows=50, progress=slow)
"""


def kill_backfill_after(adapter: str, location: str, batches: int = 5) -> None:
    """Run `store.<adapter>.search_index.backfill(location)` in batches of 50 and SIGKILL it after `batches`."""
    target = "Path(sys.argv[1])" if adapter == "sqlite" else "sys.argv[1]"
    child = subprocess.Popen([sys.executable, "-c", _CHILD.format(adapter=adapter, target=target), location],
                             stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        for _ in range(batches):
            assert child.stdout.readline().strip()
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL
