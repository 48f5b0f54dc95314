"""Is the configured model usable, and which local servers are there? Answered in a few seconds.

`probe_model` asks an OpenAI-compatible server for its model list (`GET /models`: an unreachable server or
refused credentials show there at once, and the list names what it serves), then makes one completion of a
single token, which settles whether the model answers (llama.cpp serves any name; hosted providers list
nothing useful). `discover_local_servers` looks for a server on the loopback at the ports the usual local
servers use, and lists their models; nothing found is used until the user chooses it. HTTP is the standard
library's, so a probe never waits on DSPy's import.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from types import MappingProxyType

from pipeline.endpoint import InvalidEndpoint, mask_url, parse_endpoint

REACHABLE = "reachable"
UNREACHABLE = "unreachable"
AUTH_REFUSED = "auth refused"
MODEL_NOT_SERVED = "model not served"
NOT_CONFIGURED = "not configured"
FAILED = "failed"
PROBE_TIMEOUT_S = 5.0
PROBE_PROMPT = "Reply with the single word: OK"
PROBE_MAX_TOKENS = 3
DISCOVERY_TIMEOUT_S = 0.5
# Where the usual local servers listen by default, and what they are called.
LOCAL_SERVERS = MappingProxyType({11434: "Ollama", 8080: "llama.cpp", 1234: "LM Studio", 8000: "vLLM"})
LOOPBACK = "127.0.0.1"


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """What the probe found: a state (`reachable`, `unreachable`, …), one line saying it, and the fix."""

    state: str
    message: str
    fix: str = ""
    models: tuple[str, ...] = ()
    answer: str | None = None
    latency_ms: float | None = None

    @property
    def usable(self) -> bool:
        """Whether the configured model can be used."""
        return self.state == REACHABLE


@dataclass(frozen=True, slots=True)
class LocalServer:
    """An OpenAI-compatible server found on the loopback, and the models it lists."""

    name: str
    base_url: str
    models: tuple[str, ...]

    def settings_for(self, model: str) -> dict[str, str]:
        """The exact settings that use `model` on this server."""
        return {"LLM_MODEL": f"openai/{model}", "LLM_API_BASE": self.base_url}


def _get_json(url: str, headers: dict[str, str], timeout_s: float) -> tuple[int, object]:
    request = urllib.request.Request(url, headers={"Accept": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310 - http(s) checked
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, None
    except ValueError:
        return 200, None


def model_ids(payload: object) -> tuple[str, ...]:
    """Model names from a `/models` answer (OpenAI's `data[].id`, or Ollama's and llama.cpp's `models[].name`)."""
    if not isinstance(payload, dict):
        return ()
    names: list[str] = []
    for key, field in (("data", "id"), ("models", "name")):
        for item in payload.get(key) or ():
            if isinstance(item, dict) and isinstance(item.get(field), str) and item[field] not in names:
                names.append(item[field])
    return tuple(names)


def probe_model(
    model: str | None, api_base: str | None = None, api_key: str | None = None, timeout_s: float = PROBE_TIMEOUT_S
) -> ProbeResult:
    """Whether `model` can be used: reachable, unreachable, auth refused or model not served, with the fix."""
    if not model or not model.strip():
        return ProbeResult(NOT_CONFIGURED, "no model is configured", "set LLM_MODEL (see `prompt-improver doctor`)")
    model = model.strip()
    if not api_base:
        return _probe_by_completion(model, None, api_key, timeout_s)
    try:
        endpoint = parse_endpoint(api_base)
    except InvalidEndpoint as error:
        return ProbeResult(FAILED, f"LLM_API_BASE {error}", "correct LLM_API_BASE")
    shown = mask_url(api_base.strip())
    headers = {"Authorization": endpoint.basic_auth_header or f"Bearer {api_key or 'not-needed'}"}
    try:
        code, payload = _get_json(endpoint.url.rstrip("/") + "/models", headers, timeout_s)
    except (OSError, TimeoutError) as error:
        reason = getattr(error, "reason", None) or error
        return ProbeResult(UNREACHABLE, f"the model server at {shown} is unreachable ({reason})",
                           "start the server, or correct LLM_API_BASE")
    if code in (401, 403):
        return ProbeResult(AUTH_REFUSED, f"the model server at {shown} refused the credentials (HTTP {code})",
                           "check LLM_API_KEY, or the user:password in LLM_API_BASE")
    listed = model_ids(payload) if code == 200 else ()
    result = _probe_by_completion(model, api_base, api_key, timeout_s)
    return ProbeResult(result.state, result.message, result.fix, listed, result.answer, result.latency_ms)


def _probe_by_completion(model: str, api_base: str | None, api_key: str | None, timeout_s: float) -> ProbeResult:
    from pipeline.errors import AnswerTruncated, PipelineError
    from pipeline.lm import build_lm, describe_model
    from pipeline.model_errors import CallContext, is_model_error, translate_model_error

    shown = describe_model(model, api_base)
    start = time.perf_counter()
    try:
        lm = build_lm(model, api_base=api_base, api_key=api_key, timeout_s=timeout_s, max_retries=0,
                      max_tokens=PROBE_MAX_TOKENS)
        outputs = lm(PROBE_PROMPT)
        first = outputs[0] if isinstance(outputs, list) and outputs else outputs
        answer = str(first.get("text") if isinstance(first, dict) else first or "").strip()
    except AnswerTruncated as cut:
        answer = cut.excerpt or ""  # a few tokens are all we asked for
    except PipelineError as error:
        return ProbeResult(FAILED, str(error), "correct LLM_MODEL / LLM_API_BASE")
    except Exception as error:  # noqa: BLE001 - classified below; a bug in our code is not a model failure
        if not is_model_error(error):
            raise
        context = CallContext(model=model, endpoint=mask_url(api_base) if api_base else None, timeout_s=timeout_s)
        message = str(translate_model_error(error, context))
        state = (AUTH_REFUSED if "refused the credentials" in message else MODEL_NOT_SERVED
                 if "does not serve the model" in message else UNREACHABLE
                 if "could not reach" in message or "did not answer" in message else FAILED)
        problem, _, fix = message.partition(" — ")
        return ProbeResult(state, problem, fix)
    latency_ms = (time.perf_counter() - start) * 1000
    return ProbeResult(REACHABLE, f"{shown} answers ({latency_ms:,.0f} ms)", answer=answer, latency_ms=latency_ms)


def discover_local_servers(
    timeout_s: float = DISCOVERY_TIMEOUT_S, ports: Mapping[int, str] = LOCAL_SERVERS
) -> list[LocalServer]:
    """OpenAI-compatible servers listening on 127.0.0.1 at the usual ports, with their models.

    Only the loopback is asked, each port at most `timeout_s` (all at once), so this takes about that long.

    Args:
        timeout_s: how long each port may take to answer.
        ports: port → server name (the usual local servers' defaults).
    """
    def ask(port: int) -> LocalServer | None:
        base = f"http://{LOOPBACK}:{port}/v1"
        try:
            code, payload = _get_json(base + "/models", {}, timeout_s)
        except (OSError, TimeoutError):
            return None
        models = model_ids(payload) if code == 200 else ()
        return LocalServer(ports[port], base, models) if models else None

    with ThreadPoolExecutor(max_workers=max(1, len(ports))) as pool:
        return [server for server in pool.map(ask, ports) if server is not None]
