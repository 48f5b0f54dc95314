"""The Settings page's "Test connection": one tiny model call, its answer or the provider's message."""

from __future__ import annotations

import time
from dataclasses import dataclass

from pipeline.errors import PipelineError
from pipeline.service import MODEL_ERROR_PACKAGES
from prompt_improver.settings import Settings

PING_PROMPT = "Reply with the single word: OK"


@dataclass(frozen=True, slots=True)
class ConnectionResult:
    """What the tiny call returned: its answer and round-trip time, or the error message."""

    ok: bool
    message: str
    latency_ms: float | None = None


def _from_model_stack(error: BaseException) -> bool:
    if isinstance(error, (OSError, TimeoutError)):
        return True
    return type(error).__module__.split(".")[0] in MODEL_ERROR_PACKAGES


def check_connection(config: Settings, lm: object | None = None) -> ConnectionResult:
    """Make one tiny call with the configured model; only model-stack errors become a failed result.

    Args:
        config: the settings in force (model, API base, key, timeout, retries).
        lm: the LM to use (the app's cached one); built from `config` when None.
    """
    from pipeline.normalize import translate_model_error

    try:
        if lm is None:
            from prompt_improver.wiring import build_lm_from_settings

            lm = build_lm_from_settings(config, cache=False)
        start = time.perf_counter()
        answer = lm(PING_PROMPT)  # type: ignore[operator]
        elapsed = (time.perf_counter() - start) * 1000
    except PipelineError as error:
        return ConnectionResult(False, str(error))
    except Exception as error:  # noqa: BLE001 — narrowed just below: only the model stack's own errors
        if not _from_model_stack(error):
            raise
        return ConnectionResult(False, str(translate_model_error(error)))
    text = answer[0] if isinstance(answer, list) and answer else answer
    if isinstance(text, dict):
        text = text.get("text", text)
    return ConnectionResult(True, str(text).strip()[:200] or "(an empty answer)", elapsed)
