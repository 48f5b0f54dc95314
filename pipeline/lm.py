"""Building the language model from settings, without `dspy.configure` and without importing litellm.

DSPy 3.4 sends the providers it knows (openai/, anthropic/, ollama_chat/, …, and any OpenAI-compatible
server given as `openai/<name>` plus an API base) through its native engine; litellm, its compatibility
engine, is imported only when a call falls back to it. `import dspy` itself does not import litellm.

Retries: DSPy owns them (the litellm engine is called with `num_retries=0`). A call is attempted
`max_retries + 1` times when it fails with a rate limit (429), a server error (5xx), a timeout or a
connection failure, sleeping the provider's `Retry-After` when it sends one, else 1 s, 2 s, 4 s, … (capped
at 60 s). Authentication, bad-request and not-found errors are not retried.

Price map: unless LITELLM_LOCAL_MODEL_COST_MAP is already set, `build_lm` sets it to True so the first
call does not fetch a price list from GitHub (see `build_lm`).

Caching: DSPy's response cache keys on the request but ignores `api_base`, `base_url` and `api_key`, so
the same model name on two servers would share answers. With `cache=False` no cache is read or written;
with `cache=True` the endpoint is folded into the key through `rollout_id` (which DSPy keeps in the key and
strips before sending), so an answer cached for one server is never served for another.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from typing import TYPE_CHECKING

from pipeline.endpoint import InvalidEndpoint, mask_url, parse_endpoint
from pipeline.errors import ModelNotConfigured

if TYPE_CHECKING:
    import dspy

DEFAULT_ENDPOINT = "provider-default"
# A key for servers that need none (Ollama, llama.cpp, LM Studio): the OpenAI-compatible client insists on
# one, and a provider key from the environment must not be sent to a custom LLM_API_BASE.
NO_KEY = "not-needed"

HOW_TO_CONFIGURE = (
    "no language model is configured. Set LLM_MODEL (in the environment or .env) to a litellm-style model "
    "string, for example:\n"
    "  - hosted OpenAI:    LLM_MODEL=openai/gpt-4o-mini           with OPENAI_API_KEY=...\n"
    "  - hosted Anthropic: LLM_MODEL=anthropic/claude-haiku-4-5   with ANTHROPIC_API_KEY=...\n"
    "  - a local OpenAI-compatible server (Ollama, vLLM, LM Studio, llama.cpp):\n"
    "                      LLM_MODEL=openai/<model-name>  LLM_API_BASE=http://127.0.0.1:11434/v1\n"
    "                      (LLM_API_KEY only if the server requires one)\n"
    "  - Ollama's own API: LLM_MODEL=ollama_chat/qwen2.5"
)


def cache_namespace(api_base: str | None) -> int:
    """An integer naming the endpoint, put in DSPy's cache key as `rollout_id` (never sent to the server)."""
    endpoint = (api_base or DEFAULT_ENDPOINT).strip().rstrip("/")
    return int(hashlib.sha256(endpoint.encode("utf-8")).hexdigest()[:12], 16)


def describe_model(model: str | None, api_base: str | None = None) -> str:
    """A one-line display name: `openai/gpt-4o-mini`, `openai/qwen2.5 @ http://127.0.0.1:11434/v1`."""
    if model is None or not str(model).strip():
        return "no model configured (set LLM_MODEL)"
    model = str(model).strip()
    return f"{model} @ {mask_url(api_base.strip())}" if api_base and api_base.strip() else model


def build_lm(
    model: str | None,
    *,
    api_base: str | None = None,
    api_key: str | None = None,
    timeout_s: float = 60,
    max_retries: int = 3,
    temperature: float = 0.2,
    max_tokens: int = 2000,
    cache: bool = False,
    max_tokens_setting: str = "LLM_MAX_TOKENS",
) -> dspy.LM:
    """A `dspy.LM` for the configured model; use it with `with dspy.context(lm=lm)`.

    Args:
        model: a litellm-style model string (`openai/gpt-4o-mini`, `anthropic/claude-haiku-4-5`,
            `ollama_chat/qwen2.5`, `openai/<name>` with `api_base` for an OpenAI-compatible server).
        api_base: the server's base URL (e.g. `http://127.0.0.1:11434/v1`); None for the provider's own.
        api_key: the key; None uses the provider's environment variable (OPENAI_API_KEY, …), or no key
            at all when `api_base` is set.
        timeout_s: seconds to wait for one attempt.
        max_retries: retries after a 429, 5xx, timeout or connection failure (with backoff).
        cache: whether DSPy's response cache is used (partitioned by endpoint).
        max_tokens_setting: the setting named when an answer is cut at `max_tokens` (a second model,
            such as a judge, has its own).

    An `api_base` with credentials (`http://user:pass@host/v1`) is called without them in the URL and with
    an `Authorization: Basic` header (sent through DSPy's compatibility engine, which carries headers).
    A call whose answer was cut at `max_tokens` raises `AnswerTruncated`.

    Raises:
        ModelNotConfigured: `model` is None or blank (the message lists how to configure one), or DSPy
            refuses the model with these settings (the message says which setting to change).
    """
    if model is None or not str(model).strip():
        raise ModelNotConfigured(HOW_TO_CONFIGURE)
    model = str(model).strip()
    api_base = api_base.strip() if api_base and api_base.strip() else None
    api_key = api_key.strip() if api_key and api_key.strip() else None
    headers: dict[str, str] = {}
    if api_base is not None:
        try:
            endpoint = parse_endpoint(api_base)
        except InvalidEndpoint as error:
            raise ModelNotConfigured(f"LLM_API_BASE {error}") from None
        api_base = endpoint.url
        if endpoint.basic_auth_header is not None:
            headers["Authorization"] = endpoint.basic_auth_header
    if api_base is not None and api_key is None:
        api_key = NO_KEY
    # On its first call in a process DSPy (and litellm, if it is ever imported) downloads a model price map
    # from GitHub, waiting up to 5 s when the network is filtered — inside the timed model call, and a
    # request to a third party from a local-first tool. The bundled copy serves the same purpose (cost
    # estimates only). An explicit LITELLM_LOCAL_MODEL_COST_MAP=false keeps the download.
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    from dspy.utils.exceptions import LMConfigurationError

    from pipeline.truncation import TruncationCheckingLM

    options: dict = {"timeout": float(timeout_s)}
    if api_base is not None:
        options["api_base"] = api_base
    if api_key is not None:
        options["api_key"] = api_key
    if headers:
        options["extra_headers"] = headers
    if cache:
        options["rollout_id"] = cache_namespace(api_base)
    try:
        with warnings.catch_warnings():
            # DSPy warns that rollout_id "has no effect" at temperature 0: true for sampling, but here it only
            # partitions the cache, which is what we want.
            warnings.filterwarnings("ignore", message="rollout_id has no effect")
            return TruncationCheckingLM(
                model,
                max_tokens_setting=max_tokens_setting,
                temperature=temperature,
                max_tokens=max_tokens,
                cache=cache,
                num_retries=max_retries,
                **options,
            )
    except LMConfigurationError as error:
        raise ModelNotConfigured(
            f"LLM_MODEL={model!r} cannot be used with these settings: {error.message} "
            "(set LLM_TEMPERATURE and LLM_MAX_TOKENS accordingly)"
        ) from error
    except ValueError as error:
        raise ModelNotConfigured(f"LLM_MODEL={model!r} is not a usable model string: {error}") from error

