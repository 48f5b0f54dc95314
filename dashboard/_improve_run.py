"""Running one improvement from the Improve page: in a worker thread, with progress, and cancellable.

The model call can take a minute or more on a small local model. The page waits in a loop that redraws
"attempt n of m, t s" every quarter second; a click on *Cancel* (or any other widget) makes Streamlit stop
this run at its next redraw, and the `finally` below then sets the cancel event: the worker records nothing
and stops before its next attempt (the request in flight ends at LLM_TIMEOUT_S).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

CANCELLED_KEY = "improve_cancelled"
POLL_S = 0.25


@dataclass
class _Progress:
    """What the worker reports to the waiting page (written by one thread, read by the other)."""

    attempt: int = 0
    attempts: int = 0
    outcome: Any = None
    error: BaseException | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def on_attempt(self, attempt: int, attempts: int) -> None:
        with self.lock:
            self.attempt, self.attempts = attempt, attempts


def run_with_progress(call: Any, *, label: str, total_timeout_s: float) -> Any:
    """Run `call(on_attempt=..., cancel=...)` in a worker thread while showing its progress; return its result.

    Raises:
        whatever `call` raised (the page shows our own errors).
    """
    progress = _Progress()
    cancel = threading.Event()

    def work() -> None:
        try:
            progress.outcome = call(on_attempt=progress.on_attempt, cancel=cancel)
        except BaseException as error:  # noqa: BLE001 - handed to the page thread, which re-raises it
            progress.error = error

    worker = threading.Thread(target=work, name="improve", daemon=True)
    status = st.empty()
    st.button("Cancel", key="improve_cancel", icon=":material/cancel:",
              help="Stop waiting; nothing is recorded. The request in flight ends at LLM_TIMEOUT_S.")
    started = time.monotonic()
    worker.start()
    try:
        while worker.is_alive():
            with progress.lock:
                attempt, attempts = progress.attempt, progress.attempts
            step = f"attempt {attempt} of {attempts}, " if attempts else ""
            status.info(f"Waiting for {label}: {step}{time.monotonic() - started:.0f} s "
                        f"(at most {total_timeout_s:g} s)…", icon=":material/hourglass_top:")
            worker.join(POLL_S)
    finally:
        if worker.is_alive():  # this run was stopped (Cancel, or another widget): record nothing
            cancel.set()
            st.session_state[CANCELLED_KEY] = True
    status.empty()
    if progress.error is not None:
        raise progress.error
    return progress.outcome


def take_cancelled() -> bool:
    """Whether the previous run was cancelled while it waited (asked once: the flag is cleared)."""
    return bool(st.session_state.pop(CANCELLED_KEY, False))
