"""How the model is asked to answer: a bounded JSON schema, a JSON object, or DSPy's chat layout.

Small local models given DSPy's `[[ ## field ## ]]` layout wander into code fences and repetition loops and
run to the token limit. Servers that take `response_format` with a JSON schema (llama.cpp, vLLM, Ollama,
LM Studio, OpenAI) constrain decoding to it, so the answer is a complete object whatever the model. The
schema is derived from the signature's output fields, with bounds that keep the whole answer inside
`max_tokens`: a `maxLength` on every string (a share of the budget, never above the record's limits),
`minItems`/`maxItems` on guardrails, confidence a number in [0, 1].

The order of preference is `OUTPUT_MODES`; a server that rejects one gets the next (see `ModelClient`).
DSPy's adapters and signatures stay in charge of the prompt and the parsing: `StructuredJSONAdapter` only
chooses the `response_format` its parent `JSONAdapter` sends.
"""

from __future__ import annotations

from enum import Enum
from types import MappingProxyType
from typing import Any

from store.record import MAX_FIELD_CHARS, MAX_GUARDRAIL_CHARS, MAX_PROMPT_CHARS


class OutputMode(str, Enum):
    """How an answer is requested, best first."""

    JSON_SCHEMA = "json-schema"
    JSON_OBJECT = "json-object"
    CHAT = "chat"


OUTPUT_MODES = (OutputMode.JSON_SCHEMA, OutputMode.JSON_OBJECT, OutputMode.CHAT)

# Characters per token assumed when sizing the strings: English runs ~4; repetitive or non-English text less.
CHARS_PER_TOKEN = 3
# Each field's share of the answer's character budget (LLM_MAX_TOKENS × CHARS_PER_TOKEN); the rest is
# JSON punctuation. A guardrail's share is per item. Fields not listed get OTHER_SHARE.
FIELD_SHARES = MappingProxyType({
    "reasoning": 0.15, "improved_prompt": 0.45, "role": 0.03, "directive": 0.06, "framework": 0.02,
    "guardrails": 0.03,
})
OTHER_SHARE = 0.05
RECORD_LIMITS = MappingProxyType({"improved_prompt": MAX_PROMPT_CHARS, "guardrails": MAX_GUARDRAIL_CHARS})
MIN_STRING_CHARS = 40
MIN_GUARDRAILS, MAX_GUARDRAILS_ASKED = 3, 7  # the signature asks for 3 to 7


def _max_chars(name: str, max_tokens: int) -> int:
    budget = int(max_tokens * CHARS_PER_TOKEN * FIELD_SHARES.get(name, OTHER_SHARE))
    return max(MIN_STRING_CHARS, min(budget, RECORD_LIMITS.get(name, MAX_FIELD_CHARS)))


def _field_schema(name: str, annotation: Any, max_tokens: int) -> dict[str, Any]:
    from pydantic import TypeAdapter

    schema = TypeAdapter(annotation).json_schema()
    kind = schema.get("type")
    if kind == "string":
        return {"type": "string", "maxLength": _max_chars(name, max_tokens)}
    if kind == "number" or kind == "integer":
        # Every number the improver asks for is a share (the confidence); an unbounded one would be refused.
        return {"type": "number", "minimum": 0, "maximum": 1}
    if kind == "array":
        return {
            "type": "array",
            "items": {"type": "string", "minLength": 1, "maxLength": _max_chars(name, max_tokens)},
            "minItems": MIN_GUARDRAILS,
            "maxItems": MAX_GUARDRAILS_ASKED,
        }
    return schema


def output_schema(signature: Any, max_tokens: int) -> dict[str, Any]:
    """The JSON schema of a signature's output fields, bounded to fit in `max_tokens`.

    Every field is required and no other key is allowed, in the signature's order (DSPy's JSON prompt asks
    for that order too, and llama.cpp generates the properties in it).
    """
    properties = {
        name: _field_schema(name, field.annotation, max_tokens) for name, field in signature.output_fields.items()
    }
    return {"type": "object", "properties": properties, "required": list(properties), "additionalProperties": False}


def response_format(mode: OutputMode, signature: Any, max_tokens: int) -> dict[str, Any] | None:
    """The `response_format` request parameter for `mode` (None for the chat layout)."""
    if mode is OutputMode.JSON_SCHEMA:
        # Not `strict`: OpenAI's strict mode refuses `maxLength`; every other server constrains to it anyway.
        schema = output_schema(signature, max_tokens)
        return {"type": "json_schema", "json_schema": {"name": signature.__name__, "schema": schema}}
    if mode is OutputMode.JSON_OBJECT:
        return {"type": "json_object"}
    return None


def make_adapter(mode: OutputMode) -> Any:
    """The DSPy adapter for `mode`: `StructuredJSONAdapter` for the JSON modes, `ChatAdapter` otherwise.

    The chat adapter's own JSON retry is off: it would double the call (and the wait) on every unusable
    answer, and `ModelClient` already chooses the mode.
    """
    from dspy.adapters import ChatAdapter

    from pipeline.structured_adapter import StructuredJSONAdapter

    if mode is OutputMode.CHAT:
        return ChatAdapter(use_json_adapter_fallback=False)
    return StructuredJSONAdapter(mode)


# Words a server uses when it refuses the requested output format (llama.cpp, vLLM, Ollama, LM Studio, OpenAI).
_FORMAT_WORDS = ("response_format", "json_schema", "json_object", "schema", "grammar", "structured output")


def is_format_rejection(error: BaseException) -> bool:
    """Whether `error` is a server refusing the requested output format (so the next mode may work).

    An HTTP 400/422 (or DSPy's unsupported-feature error) whose message names the format; any other failure
    (a wrong model name, a too-large max_tokens) would fail the same way in every mode.
    """
    current: BaseException | None = error
    for _ in range(10):
        if current is None:
            return False
        names = {cls.__name__ for cls in type(current).__mro__}
        status = getattr(current, "status", None) or getattr(current, "status_code", None)
        refused = status in (400, 422) or bool(
            names & {"LMInvalidRequestError", "LMUnsupportedFeatureError", "UnsupportedFeatureError",
                     "BadRequestError", "UnprocessableEntityError"}
        )
        text = str(current).lower()
        if refused and any(word in text for word in _FORMAT_WORDS):
            return True
        current = current.__cause__ or current.__context__
    return False
