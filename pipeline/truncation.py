"""An answer cut at the token limit is an error of its own, not "the fields are missing" (imports DSPy)."""

from __future__ import annotations

from typing import Any

import dspy

from pipeline.errors import AnswerTruncated


def finish_reasons(response: Any) -> list[str]:
    """The `finish_reason` of each choice in a history entry's response (lm15's or litellm's shape)."""
    responses = response if isinstance(response, (list, tuple)) else [response]
    reasons = []
    for item in responses:
        reason = getattr(item, "finish_reason", None)
        if reason is not None:
            reasons.append(str(getattr(reason, "value", reason)))
            continue
        for choice in getattr(item, "choices", None) or ():
            reason = choice.get("finish_reason") if isinstance(choice, dict) else getattr(choice, "finish_reason", None)
            if reason is not None:
                reasons.append(str(reason))
    return reasons


class TruncationCheckingLM(dspy.LM):
    """A `dspy.LM` that refuses an answer the server cut at `max_tokens` (finish_reason `length`).

    DSPy parses a cut answer as far as it goes: a JSON object repaired into a record with half a prompt, or
    a parse error that blames the fields. The check runs where DSPy records each call in the LM's history,
    in the calling thread, right after the response arrives (the entry is kept for inspection).

    Args:
        max_tokens_setting: the setting named in the error (a second model, such as a judge, has its own).
        *args, **kwargs: as for `dspy.LM`.
    """

    def __init__(self, *args: Any, max_tokens_setting: str = "LLM_MAX_TOKENS", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_tokens_setting = max_tokens_setting

    def update_history(self, entry: dict[str, Any]) -> None:
        """Record the call as DSPy does; raise `AnswerTruncated` when the answer was cut."""
        super().update_history(entry)
        if "length" in finish_reasons(entry.get("response")):
            outputs = entry.get("outputs") or [""]
            text = outputs[0].get("text") if isinstance(outputs[0], dict) else outputs[0]
            limit = (entry.get("kwargs") or {}).get("max_tokens") or self.kwargs.get("max_tokens")
            raise AnswerTruncated(limit, self.max_tokens_setting, str(text or ""))
