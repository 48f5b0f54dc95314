"""Every way a model call fails, as one line in our words: the cause, the setting involved, and the fix.

DSPy's bundled client writes advice for programmers ("lm15 never retries for you", "raise it with
Timeouts(read=...)"); none of that reaches a user. Only the provider's own first line (its error message,
e.g. "model 'x' not found") is quoted, with any password in it masked. Classes are matched by name over the
exception, its bases and its causes, so neither litellm nor the OpenAI SDK is imported here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.endpoint import mask_secrets
from pipeline.errors import ImprovementFailed
from pipeline.normalize import excerpt

# Words of DSPy's client that mean nothing to a user; a provider message holding one is not quoted.
_INTERNAL_WORDS = ("lm15", "Timeouts(", "RouterConfig", "litellm", "Traceback")
_ENGINE_SUFFIX = re.compile(r"\s*\((?:openai|anthropic|gemini)[\w-]*, HTTP \d{3}\)\s*$")
_MODEL_PREFIX = re.compile(r"^\[[^\]]*\]\s*")


@dataclass(frozen=True, slots=True)
class CallContext:
    """What the error message names: the model, the server (credentials masked), the limits in force."""

    model: str = ""
    endpoint: str | None = None
    timeout_s: float | None = None
    total_timeout_s: float | None = None
    max_tokens: int | None = None
    attempts: int = 1
    secret: str | None = None


_UNKNOWN = CallContext()
# Packages whose exceptions mean "the model call failed": DSPy's adapters and LM errors, and the HTTP
# stacks below them. Anything else raised inside the program is a bug in our code and propagates as is.
MODEL_ERROR_PACKAGES = frozenset({"dspy", "litellm", "openai", "httpx", "httpcore", "anthropic"})
_KNOWN = frozenset({
    "ContextWindowExceededError", "LMAuthError", "AuthenticationError", "PermissionDeniedError", "LMBillingError",
    "LMRateLimitError", "RateLimitError", "APIConnectionError", "LMTimeoutError", "Timeout", "APITimeoutError",
    "LMTransportError", "LMUnsupportedModelError", "NotFoundError", "LMNotConfiguredError", "LMConfigurationError",
    "LMServerError", "InternalServerError", "ServiceUnavailableError", "BadGatewayError", "LMInvalidRequestError",
    "BadRequestError", "UnprocessableEntityError",
})


def is_model_error(error: BaseException) -> bool:
    """Whether an exception raised while a program ran comes from the model call (DSPy, litellm, HTTP)."""
    if isinstance(error, (OSError, TimeoutError, ImprovementFailed)):  # sockets, refused connections, DNS
        return True
    package = type(error).__module__.split(".", 1)[0]
    return package in MODEL_ERROR_PACKAGES


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen and len(seen) < 10:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _names(chain: list[BaseException]) -> set[str]:
    return {cls.__name__ for item in chain for cls in type(item).__mro__}


def _status(chain: list[BaseException]) -> int | None:
    for item in chain:
        code = getattr(item, "status", None) or getattr(item, "status_code", None)
        if isinstance(code, int):
            return code
    return None


def provider_message(exc: BaseException, secret: str | None = None) -> str:
    """The provider's own first line of the error, without DSPy's decorations; '' when there is none."""
    text = getattr(exc, "message", None) or str(exc)
    line = _MODEL_PREFIX.sub("", str(text).strip().splitlines()[0] if str(text).strip() else "")
    line = _ENGINE_SUFFIX.sub("", line).strip()
    if any(word in line for word in _INTERNAL_WORDS):
        return ""
    return excerpt(mask_secrets(line, secret), 300)


def _socket_reason(chain: list[BaseException]) -> str:
    for item in reversed(chain):
        if isinstance(item, OSError) and item.strerror:
            return item.strerror
    return ""


def _where(context: CallContext) -> str:
    return f" at {context.endpoint}" if context.endpoint else ""


def _after(context: CallContext) -> str:
    return f" after {context.attempts} attempts" if context.attempts > 1 else ""


def _message(names: set[str], status: int | None, quoted: str, context: CallContext, chain: list) -> str | None:
    code = f" (HTTP {status})" if status is not None else ""
    said = f": {quoted}" if quoted else ""
    if names & {"ContextWindowExceededError"}:
        return f"the prompt is longer than the model's context window{said} — shorten the idea or context, or choose a model with a larger context window"
    if names & {"LMAuthError", "AuthenticationError", "PermissionDeniedError"} or status in (401, 403):
        return (f"the model server{_where(context)} refused the credentials{code}{said} — check LLM_API_KEY (or "
                "the provider's own variable, e.g. OPENAI_API_KEY), or the user:password in LLM_API_BASE")
    if names & {"LMBillingError"}:
        return f"the provider refused for billing or quota reasons{code}{said} — check the provider account's billing and quota"
    if names & {"LMRateLimitError", "RateLimitError"} or status == 429:
        return (f"the provider is rate-limiting requests{code}{_after(context)}{said} — wait and try again, "
                "lower LLM_CONCURRENCY, or raise LLM_MAX_RETRIES")
    if names & {"ConnectTimeout", "ConnectTimeoutError", "ConnectError", "ConnectionError", "APIConnectionError",
                "ConnectionRefusedError", "gaierror"} and not names & {"ReadTimeout", "TimeoutError", "Timeout"} - {"ConnectTimeout"}:
        reason = _socket_reason(chain) or quoted or "no connection"
        return (f"could not reach the model server{_where(context)} ({reason}){_after(context)} — is the server "
                "running? start it, or correct LLM_API_BASE")
    if names & {"LMTimeoutError", "Timeout", "APITimeoutError", "TimeoutException", "ReadTimeout", "TimeoutError"}:
        limit = f"LLM_TIMEOUT_S={context.timeout_s:g} s" if context.timeout_s is not None else "LLM_TIMEOUT_S"
        return (f"the model{_where(context)} did not answer within {limit}{_after(context)}{said} — raise LLM_TIMEOUT_S, "
                "lower LLM_MAX_TOKENS, or use a faster model")
    if names & {"LMTransportError"}:
        reason = _socket_reason(chain) or quoted or "the connection failed"
        return (f"could not reach the model server{_where(context)} ({reason}){_after(context)} — is the server "
                "running? start it, or correct LLM_API_BASE")
    if names & {"LMUnsupportedModelError", "NotFoundError"} or status == 404:
        model = f" {context.model!r}" if context.model else ""
        return (f"the model server{_where(context)} does not serve the model{model}{code}{said} — set LLM_MODEL to "
                "a model it serves (`prompt-improver doctor` lists them; for Ollama, `ollama list`)")
    if names & {"LMNotConfiguredError", "LMConfigurationError"}:
        return f"the model is not configured correctly{said} — check LLM_MODEL, LLM_API_BASE and LLM_API_KEY"
    if names & {"LMServerError", "InternalServerError", "ServiceUnavailableError", "BadGatewayError"} or (status or 0) >= 500:
        return f"the model server failed (HTTP 5xx){code}{_after(context)}{said} — try again later or raise LLM_MAX_RETRIES"
    if names & {"LMInvalidRequestError", "BadRequestError", "UnprocessableEntityError"} or status in (400, 422):
        return f"the provider rejected the request{code}{said} — check LLM_MODEL and LLM_MAX_TOKENS"
    return None


def translate_model_error(exc: BaseException, context: CallContext | None = None) -> ImprovementFailed:
    """Our `ImprovementFailed` for an exception raised while a program called the model.

    An answer without the expected fields keeps an excerpt of what the model said; an answer cut at the
    token limit is `AnswerTruncated` already (raised by the LM) and passes through, as does any
    `ImprovementFailed`.
    """
    if isinstance(exc, ImprovementFailed):
        return exc
    context = context or _UNKNOWN
    chain = _chain(exc)
    for item in chain:
        if isinstance(item, ImprovementFailed):
            return item
        if "AdapterParseError" in {cls.__name__ for cls in type(item).__mro__}:
            raw = getattr(item, "lm_response", None)
            failed = ImprovementFailed(
                "the model's answer could not be used: it did not contain the expected fields (improved_prompt, "
                "role, directive, framework, guardrails, confidence) — try again, lower LLM_TEMPERATURE or use a "
                "more capable model",
                excerpt=excerpt(mask_secrets(raw, context.secret)) if raw else None,
            )
            failed.__cause__ = exc
            return failed
    # Quote the error that names the failure (a wrapper's "wrapper" says nothing), else the first that speaks.
    known = [item for item in chain if {cls.__name__ for cls in type(item).__mro__} & _KNOWN]
    quoted = next((text for item in known + chain if (text := provider_message(item, context.secret))), "")
    message = _message(_names(chain), _status(chain), quoted, context, chain)
    if message is None:
        detail = provider_message(exc, context.secret) or "no details"
        message = f"the model call failed: {type(exc).__name__}: {detail}"
    failed = ImprovementFailed(mask_secrets(message, context.secret))
    failed.__cause__ = exc
    return failed
