"""One model as the app uses it: the DSPy LM, the output mode it accepts, and a bounded wait for each answer.

The composition root (the CLI, the dashboard) builds one `ModelClient` per model configuration and keeps it
for the process; every improvement goes through `ModelClient.run`:

- **Output mode**: a bounded JSON schema first, then a JSON object, then DSPy's chat layout; a server that
  refuses a format (HTTP 400 naming it) gets the next one, and the client remembers that for the process,
  so only the first call pays for the refusal.
- **Attempts**: `max_retries + 1` attempts at most, each bounded by `timeout_s`, all together by
  `total_timeout_s`; rate limits, 5xx, timeouts and connection failures are retried after a backoff (the
  provider's Retry-After when it sends one, else 1 s, 2 s, 4 s …). The LM itself never retries.
- **Progress and cancelling**: `on_attempt(n, m)` is called before each attempt; a set `cancel` event stops
  before the next attempt (the one in flight ends at its timeout).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pipeline.errors import ImprovementCancelled, ImprovementFailed, PipelineError
from pipeline.model_errors import CallContext, is_model_error, translate_model_error
from pipeline.structured_output import OUTPUT_MODES, OutputMode, is_format_rejection, make_adapter

logger = logging.getLogger(__name__)

MAX_BACKOFF_S = 60.0
RETRYABLE = frozenset({
    "LMRateLimitError", "RateLimitError", "LMServerError", "InternalServerError", "ServiceUnavailableError",
    "LMTransportError", "LMTimeoutError", "APIConnectionError", "APITimeoutError", "Timeout", "TimeoutError",
    "ConnectionError",
})


@dataclass(frozen=True, slots=True)
class AttemptPolicy:
    """How long to wait for one answer: per attempt, in all, and how many attempts."""

    max_retries: int = 3
    timeout_s: float = 60.0
    total_timeout_s: float = 120.0

    def __post_init__(self) -> None:
        if isinstance(self.max_retries, bool) or not isinstance(self.max_retries, int) or self.max_retries < 0:
            raise ValueError(f"max_retries must be a whole number >= 0, got {self.max_retries!r}")
        if not self.timeout_s > 0 or not self.total_timeout_s > 0:
            raise ValueError(f"timeouts must be > 0, got {self.timeout_s!r} and {self.total_timeout_s!r}")

    @property
    def attempts(self) -> int:
        """Attempts at most (the first and the retries)."""
        return self.max_retries + 1


class OutputModes:
    """Which output mode each model accepts, learned from refusals and kept for the process. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._modes: dict[str, OutputMode] = {}

    def current(self, key: str) -> OutputMode:
        """The best mode not yet refused for `key`."""
        with self._lock:
            return self._modes.get(key, OUTPUT_MODES[0])

    def refuse(self, key: str, mode: OutputMode) -> OutputMode:
        """Record that `key` refused `mode`; return the mode to use now (the chat layout at the end)."""
        following = OUTPUT_MODES[min(OUTPUT_MODES.index(mode) + 1, len(OUTPUT_MODES) - 1)]
        with self._lock:
            if OUTPUT_MODES.index(self._modes.get(key, OUTPUT_MODES[0])) < OUTPUT_MODES.index(following):
                self._modes[key] = following
            return self._modes[key]

    def snapshot(self) -> Mapping[str, OutputMode]:
        """A copy of what was learned (for `doctor` and logs)."""
        with self._lock:
            return dict(self._modes)


def is_retryable(error: BaseException) -> bool:
    """Whether another attempt may succeed: a rate limit, a 5xx, a timeout or a connection failure."""
    current: BaseException | None = error
    for _ in range(10):
        if current is None or isinstance(current, PipelineError):
            return False
        names = {cls.__name__ for cls in type(current).__mro__}
        status = getattr(current, "status", None) or getattr(current, "status_code", None)
        if names & RETRYABLE or status == 429 or (isinstance(status, int) and status >= 500):
            return True
        current = current.__cause__ or current.__context__
    return False


def _retry_after(error: BaseException, attempt: int) -> float:
    hint = getattr(error, "retry_after", None)
    if isinstance(hint, (int, float)) and hint >= 0:
        return min(float(hint), MAX_BACKOFF_S)
    return min(2.0 ** (attempt - 1), MAX_BACKOFF_S)


class ModelClient:
    """The LM plus what the process learns about it. Build one per model configuration and keep it.

    Args:
        lm: the DSPy LM (built with no retries of its own: this client owns them).
        context: the model, server and limits named in error messages.
        policy: attempts and timeouts.
        modes: the output-mode memory (a new one when None).
        clock, sleep: injected by tests and benchmarks.
    """

    def __init__(
        self,
        lm: Any,
        *,
        context: CallContext,
        policy: AttemptPolicy | None = None,
        modes: OutputModes | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.lm = lm
        self.context = context
        self.policy = policy or AttemptPolicy()
        self.modes = modes or OutputModes()
        self._clock = clock
        self.key = f"{context.model} @ {context.endpoint or 'provider default'}"

    def run(
        self,
        program: Callable[..., Any],
        inputs: Mapping[str, Any],
        *,
        on_attempt: Callable[[int, int], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> Any:
        """Call `program(**inputs)` with this model, within the policy's attempts and time budget.

        Raises:
            ImprovementFailed: the last failure, in our words (naming the setting to change).
            ImprovementCancelled: `cancel` was set before an attempt.
        """
        policy = self.policy
        deadline = self._clock() + policy.total_timeout_s
        for attempt in range(1, policy.attempts + 1):
            if cancel is not None and cancel.is_set():
                raise ImprovementCancelled("the improvement was cancelled; nothing was recorded")
            remaining = deadline - self._clock()
            if on_attempt is not None:
                on_attempt(attempt, policy.attempts)
            shortened = remaining < policy.timeout_s  # this attempt gets only what is left of the budget
            try:
                return self._attempt(program, inputs, min(policy.timeout_s, remaining))
            except Exception as error:
                if not is_model_error(error) or (isinstance(error, PipelineError)
                                                 and not isinstance(error, ImprovementFailed)):
                    raise  # our own error, or a bug in our code: not disguised as a model failure
                wait = _retry_after(error, attempt)
                last = attempt == policy.attempts or not is_retryable(error)
                if last or self._clock() + wait >= deadline:
                    out_of_time = (shortened and is_retryable(error)) or not last
                    raise self._failure(error, attempt, out_of_time=out_of_time) from error
                logger.info("attempt %d of %d failed (%s); retrying in %.1f s",
                            attempt, policy.attempts, type(error).__name__, wait)
                if cancel is not None and cancel.wait(wait):
                    raise ImprovementCancelled("the improvement was cancelled; nothing was recorded") from None
                if cancel is None:
                    time.sleep(wait)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _attempt(self, program: Callable[..., Any], inputs: Mapping[str, Any], timeout_s: float) -> Any:
        import dspy

        lm = self.lm if timeout_s >= self.policy.timeout_s else self.lm.copy(timeout=max(timeout_s, 0.1))
        mode = self.modes.current(self.key)
        while True:
            try:
                with dspy.context(lm=lm, adapter=make_adapter(mode)):
                    return program(**inputs)
            except Exception as error:
                if mode is OutputMode.CHAT or not is_format_rejection(error):
                    raise
                refused, mode = mode, self.modes.refuse(self.key, mode)
                logger.info("%s refused the %s output mode; using %s from now on", self.key, refused.value, mode.value)

    def _failure(self, error: BaseException, attempts: int, *, out_of_time: bool) -> ImprovementFailed:
        failed = translate_model_error(error, _with_attempts(self.context, attempts))
        if out_of_time:
            failed = ImprovementFailed(
                f"{failed} (stopped by LLM_TOTAL_TIMEOUT_S={self.policy.total_timeout_s:g} s, the wait allowed "
                "for all attempts together)", excerpt=None,
            )
        return failed


def _with_attempts(context: CallContext, attempts: int) -> CallContext:
    from dataclasses import replace

    return replace(context, attempts=attempts)


def build_model_client(
    model: str | None,
    *,
    api_base: str | None = None,
    api_key: str | None = None,
    timeout_s: float = 60,
    total_timeout_s: float = 120,
    max_retries: int = 3,
    temperature: float = 0.2,
    max_tokens: int = 2000,
    cache: bool = False,
    modes: OutputModes | None = None,
) -> ModelClient:
    """A `ModelClient` for a model given by plain values (see `pipeline.lm.build_lm` for each argument).

    Raises:
        ModelNotConfigured: as `build_lm` (no model, an unusable model string, an invalid `api_base`).
    """
    from pipeline.endpoint import mask_url, parse_endpoint
    from pipeline.lm import build_lm

    lm = build_lm(model, api_base=api_base, api_key=api_key, timeout_s=timeout_s, max_retries=0,
                  temperature=temperature, max_tokens=max_tokens, cache=cache)
    endpoint = parse_endpoint(api_base) if api_base and api_base.strip() else None
    context = CallContext(
        model=str(model).strip(), endpoint=mask_url(api_base.strip()) if endpoint else None, timeout_s=timeout_s,
        total_timeout_s=total_timeout_s, max_tokens=max_tokens,
        secret=endpoint.password if endpoint else None,
    )
    policy = AttemptPolicy(max_retries=max_retries, timeout_s=timeout_s, total_timeout_s=total_timeout_s)
    return ModelClient(lm, context=context, policy=policy, modes=modes)
