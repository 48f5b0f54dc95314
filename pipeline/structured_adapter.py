"""DSPy's JSONAdapter, sending the `response_format` we choose (imports DSPy: load it only when calling)."""

from __future__ import annotations

from typing import Any

from dspy.adapters import JSONAdapter

from pipeline.structured_output import OutputMode, response_format

DEFAULT_MAX_TOKENS = 2000


class StructuredJSONAdapter(JSONAdapter):
    """A JSONAdapter that asks for a bounded JSON schema (or a JSON object) whatever DSPy knows of the model.

    DSPy's own JSONAdapter sends a schema only for models in its capability tables; a local server behind
    `openai/<name>` is in none of them, so it would send nothing and a small model would answer in prose.
    Prompt formatting and parsing are the parent's.
    """

    def __init__(self, mode: OutputMode) -> None:
        if mode is OutputMode.CHAT:
            raise ValueError("the chat layout is DSPy's ChatAdapter, not a JSON mode")
        super().__init__(use_native_function_calling=False)
        self.mode = mode

    def _prepare_response_format(self, lm: Any, lm_kwargs: dict[str, Any], signature: Any) -> None:
        max_tokens = lm_kwargs.get("max_tokens") or getattr(lm, "kwargs", {}).get("max_tokens") or DEFAULT_MAX_TOKENS
        lm_kwargs["response_format"] = response_format(self.mode, signature, int(max_tokens))
