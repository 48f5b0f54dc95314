"""Settings -> language model, in one place: the improving model's client, a plain DSPy LM, the judge's LM.

`build_services` gives every entry point one `ModelFactory`; the CLI and the dashboard ask it for models
instead of reading LLM_* themselves. DSPy and litellm are imported when a model is built, never at import.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from prompt_improver.settings import Settings

JUDGE_TEMPERATURE = 0.0  # a judge should give the same answer to the same question: its answers are cached


class ModelFactory:
    """The models one configuration describes. Thread-safe: dashboard sessions share one per configuration.

    The improving model's `ModelClient` is built once per cache choice and kept: it remembers which output
    mode the server accepts (structured output or the fallback), so asking again costs nothing.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._clients: dict[bool, Any] = {}

    def __repr__(self) -> str:
        return f"ModelFactory({self.settings.llm_model!r})"

    def client(self, *, cache: bool | None = None) -> Any:
        """The `ModelClient` (structured output with fallback, bounded attempts) for LLM_*.

        Args:
            cache: overrides LLM_CACHE (experiments pass False: they measure the model, not DSPy's cache).

        Raises:
            ModelNotConfigured: LLM_MODEL is not set or not usable; the message says how to configure one.
        """
        use_cache = self.settings.llm_cache if cache is None else cache
        with self._lock:
            if use_cache not in self._clients:
                from pipeline.model_client import build_model_client

                self._clients[use_cache] = build_model_client(
                    self.settings.llm_model, max_retries=self.settings.llm_max_retries,
                    total_timeout_s=self.settings.llm_total_timeout_s, **_model_options(self.settings, use_cache),
                )
            return self._clients[use_cache]

    def lm(self, *, cache: bool | None = None) -> Any:
        """A plain DSPy LM for LLM_* (what `compile-fewshot` bootstraps with), built per call.

        Raises:
            ModelNotConfigured: LLM_MODEL is not set; the message says how to configure one.
        """
        from pipeline.lm import build_lm

        use_cache = self.settings.llm_cache if cache is None else cache
        return build_lm(self.settings.llm_model, max_retries=self.settings.llm_max_retries,
                        **_model_options(self.settings, use_cache))

    def probe(self) -> Any:
        """Whether LLM_* can be used, within a few seconds: a `pipeline.probe.ProbeResult` (reachable, refused
        credentials, model not served, …, with the fix); what `doctor` and the Settings page's test show."""
        from pipeline.probe import probe_model

        return probe_model(self.settings.llm_model, self.settings.llm_api_base, self.settings.llm_api_key)

    def judge(self, build: Callable[..., Any] | None = None) -> Any | None:
        """The pairwise judge's DSPy LM (see `build_judge_lm`), or None when JUDGE_MODEL is unset."""
        return build_judge_lm(self.settings, build)


def judge_lm_arguments(settings: Settings) -> dict[str, Any] | None:
    """`build_lm`'s arguments for the pairwise judge (JUDGE_MODEL, JUDGE_API_BASE, JUDGE_API_KEY; the LLM_*
    timeout, retries and max tokens; temperature 0; response cache off: verdicts are stored instead), or
    None when JUDGE_MODEL is unset."""
    if not settings.judge_model:
        return None
    return {
        "model": settings.judge_model, "api_base": settings.judge_api_base, "api_key": settings.judge_api_key,
        "timeout_s": settings.llm_timeout_s, "max_retries": settings.llm_max_retries,
        "temperature": JUDGE_TEMPERATURE, "max_tokens": settings.llm_max_tokens, "cache": False,
    }


def build_judge_lm(settings: Settings, build: Callable[..., Any] | None = None) -> Any | None:
    """The judge's DSPy LM, or None when JUDGE_MODEL is unset.

    Temperature 0 where the model accepts it; a model that refuses it (OpenAI's reasoning models require
    temperature 1 and a large token budget) gets the provider's defaults for both instead.

    Args:
        build: called with `judge_lm_arguments`' keywords (default `pipeline.lm.build_lm`).

    Raises:
        ModelNotConfigured: JUDGE_MODEL cannot be used either way (the message names JUDGE_MODEL).
    """
    from pipeline.errors import ModelNotConfigured

    arguments = judge_lm_arguments(settings)
    if arguments is None:
        return None
    if build is None:
        from pipeline.lm import build_lm as build
    try:
        return build(**arguments)
    except ModelNotConfigured as refused:
        try:
            return build(**arguments | {"temperature": None, "max_tokens": None})
        except ModelNotConfigured:
            reason = str(refused).split(": ", 1)[-1].split(" (set LLM_", 1)[0]  # the LLM_* hint is not the judge's
            raise ModelNotConfigured(f"the judge cannot be used (JUDGE_MODEL={settings.judge_model!r}): {reason}") from None


def _model_options(settings: Settings, cache: bool) -> dict[str, Any]:
    return {
        "api_base": settings.llm_api_base, "api_key": settings.llm_api_key, "timeout_s": settings.llm_timeout_s,
        "temperature": settings.llm_temperature, "max_tokens": settings.llm_max_tokens, "cache": cache,
    }
