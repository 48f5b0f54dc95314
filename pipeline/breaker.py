"""A circuit breaker for the store: after repeated failures, stop trying for a while, then probe once.

The composition root owns one `CircuitBreaker` and passes it to every `improve` call (never a module
global: Streamlit sessions and the CLI each hold their own). While it is open, records go straight to
the outbox instead of waiting on a database that keeps failing.

    closed --(failure_threshold consecutive failures)--> open
    open   --(reset_after_s elapsed)--> half-open: one caller is allowed to probe
    half-open --(probe succeeds)--> closed      half-open --(probe fails)--> open (timer restarts)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half-open"


@dataclass(frozen=True, slots=True)
class BreakerSnapshot:
    """What `doctor` and the dashboard's health view show about the breaker."""

    state: str
    consecutive_failures: int
    failure_threshold: int
    opened_at: float | None
    seconds_until_probe: float | None

    def to_dict(self) -> dict:
        """The snapshot as JSON-ready plain data."""
        return {
            "state": self.state,
            "consecutive_failures": self.consecutive_failures,
            "failure_threshold": self.failure_threshold,
            "opened_at": self.opened_at,
            "seconds_until_probe": self.seconds_until_probe,
        }


class CircuitBreaker:
    """Counts consecutive failures of a dependency and refuses calls while it is known to be down.

    Args:
        failure_threshold: consecutive failures that open the breaker.
        reset_after_s: seconds the breaker stays open before letting one probe through.
        clock: a monotonic clock in seconds (injected in tests).
    """

    def __init__(
        self, failure_threshold: int = 5, reset_after_s: float = 300.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if failure_threshold < 1:
            raise ValueError(f"failure_threshold must be >= 1, got {failure_threshold!r}")
        if reset_after_s < 0:
            raise ValueError(f"reset_after_s must be >= 0, got {reset_after_s!r}")
        self.failure_threshold = failure_threshold
        self.reset_after_s = reset_after_s
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._probe_started: float | None = None

    def _current_state(self) -> str:
        if self._opened_at is None:
            return CLOSED
        if self._probe_started is not None or self._clock() - self._opened_at >= self.reset_after_s:
            return HALF_OPEN
        return OPEN

    @property
    def state(self) -> str:
        """`closed`, `open` or `half-open`."""
        with self._lock:
            return self._current_state()

    def allow(self) -> bool:
        """Whether the caller may try the dependency now.

        Closed: always. Open: no, until `reset_after_s` has passed; then exactly one caller gets True (the
        probe) and the others keep getting False until that probe reports its result.
        """
        with self._lock:
            state = self._current_state()
            if state == CLOSED:
                return True
            now = self._clock()
            # A probe whose caller never reported back (it crashed) must not block the breaker forever.
            stale = self._probe_started is not None and now - self._probe_started >= self.reset_after_s
            if state == HALF_OPEN and (self._probe_started is None or stale):
                self._probe_started = now
                return True
            return False

    def record_success(self) -> None:
        """The dependency worked: close the breaker and forget earlier failures."""
        with self._lock:
            self._failures = 0
            self._opened_at = None
            self._probe_started = None

    def record_failure(self) -> None:
        """The dependency failed: count it; open (or re-open, restarting the timer) at the threshold."""
        with self._lock:
            self._failures += 1
            if self._probe_started is not None or self._failures >= self.failure_threshold:
                self._opened_at = self._clock()
            self._probe_started = None

    def snapshot(self) -> BreakerSnapshot:
        """State, consecutive failures, when it opened (clock seconds) and seconds until the next probe."""
        with self._lock:
            state = self._current_state()
            until = None
            if self._opened_at is not None:
                until = max(0.0, self.reset_after_s - (self._clock() - self._opened_at))
            return BreakerSnapshot(state, self._failures, self.failure_threshold, self._opened_at, until)
