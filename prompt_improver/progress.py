"""A progress display on stderr for long CLI commands: a redrawn bar on a terminal, else a line per tenth."""

from __future__ import annotations

import time
from typing import TextIO

_BAR_WIDTH = 30


class ProgressLine:
    """Call `show(share, detail)` as work advances (share 0.0–1.0) and `close()` at the end."""

    def __init__(self, stream: TextIO, label: str) -> None:
        self._stream, self._label = stream, label
        self._started, self._shown_tenth = time.perf_counter(), -1
        self.updates = 0

    def show(self, share: float, detail: str = "") -> None:
        """Draw the bar (terminal) or, once per tenth reached, a line (pipe, log file)."""
        self.updates += 1
        elapsed = time.perf_counter() - self._started
        line = f"{self._label} {share:6.1%}{f' ({detail})' if detail else ''} {elapsed:5.1f} s"
        if self._stream.isatty():
            filled = int(share * _BAR_WIDTH)
            self._stream.write(f"\r[{'#' * filled}{'.' * (_BAR_WIDTH - filled)}] {line}")
        elif int(share * 10) > self._shown_tenth:
            self._shown_tenth = int(share * 10)
            self._stream.write(line + "\n")
        self._stream.flush()

    def close(self) -> None:
        """End the bar's line on a terminal (what follows starts on its own line)."""
        if self.updates and self._stream.isatty():
            self._stream.write("\n")
            self._stream.flush()
