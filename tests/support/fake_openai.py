"""A fake OpenAI-compatible model provider on 127.0.0.1 for tests: the edge our code talks to over HTTP.

    with FakeOpenAIServer(default=reply(good_fields("Write a blog post about SQLite"))) as server:
        lm = dspy.LM("openai/fake-model", api_base=server.base_url, api_key="test", cache=False)
        ...
        assert len(server.requests) == 1

The server answers `POST /v1/chat/completions` (and `POST /v1/responses`, the Responses API DSPy's native
engine uses for OpenAI) from a script: a queue of responses consumed in order, then `default` for every
further request. A response is one of `reply(fields)`, `status(code, body)`, `hang(seconds)`, `prose(text)`,
`truncated(text)` (cut at the token limit: finish_reason `length`) or `refuse_format(...)` (HTTP 400 for a
`response_format` of the given types, as a server without structured output answers). Like a real server,
`reply(fields)` answers in the format asked for: a JSON object when the request has a `response_format`, DSPy's
chat layout otherwise. `GET /v1/models` lists the one model. Every received JSON body is kept in `requests`,
every request's headers in `headers`.

Requests that arrive concurrently in no fixed order (an experiment's runs, a judge's questions) are answered
by content instead: a `responder(body)` is asked first and its answer wins unless it returns None.
`by_backend(...)` answers zero-shot and few-shot improvements differently (a few-shot request carries the
demonstrations); `judge(decide)` answers the pairwise judge from the idea and the two candidates it was
shown, so a test can script a consistent judge, a position-biased one, or one that answers junk.

The server runs `ThreadingHTTPServer` in a daemon thread on an OS-assigned port; leaving the `with`
block wakes any hanging handler, shuts the server down, closes the socket and joins every thread it
started, so nothing outlives the test.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

FIELD_ORDER = ("reasoning", "improved_prompt", "role", "directive", "framework", "guardrails", "confidence")


@dataclass(frozen=True)
class Scripted:
    """One scripted answer. Build it with `reply`, `status`, `hang` or `prose`."""

    kind: str
    content: str = ""
    fields: dict[str, Any] | None = None
    finish_reason: str = "stop"
    refused: tuple[str, ...] = ()
    status_code: int = 200
    body: dict[str, Any] | None = None
    seconds: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    then: Scripted | None = None


def format_chat_adapter_fields(fields: dict[str, Any]) -> str:
    """Format output fields the way DSPy's ChatAdapter expects a model to answer.

    Lists and dicts are JSON (`format_field_value` in dspy.adapters.utils), other values `str()`,
    each under a `[[ ## name ## ]]` header, ending with `[[ ## completed ## ]]`.
    """
    parts = []
    for name, value in fields.items():
        text = json.dumps(value, ensure_ascii=False) if isinstance(value, (list, tuple, dict)) else str(value)
        parts.append(f"[[ ## {name} ## ]]\n{text}")
    return "\n\n".join(parts) + "\n\n[[ ## completed ## ]]\n"


def reply(fields: dict[str, Any]) -> Scripted:
    """A successful completion holding `fields`: JSON when a response_format was asked for, else chat layout."""
    return Scripted("reply", content=format_chat_adapter_fields(fields), fields=dict(fields))


def truncated(text: str) -> Scripted:
    """A completion the server cut at the token limit (finish_reason `length`)."""
    return Scripted("reply", content=text, finish_reason="length")


def refuse_format(*types: str, then: Scripted | None = None) -> Scripted:
    """HTTP 400 when the request's response_format type is one of `types` (e.g. "json_schema"); `then` (a
    good reply by default) otherwise. Stays in the queue position it was taken from: use it as `default`."""
    return Scripted("refuse", refused=types, then=then)


def prose(text: str) -> Scripted:
    """A successful completion whose content is free text with no field markers."""
    return Scripted("reply", content=text)


def status(code: int, body: dict[str, Any] | str | None = None, *, retry_after: float | None = 0) -> Scripted:
    """An HTTP error. A string body becomes OpenAI's error shape `{"error": {"message": ...}}`.

    `retry_after` (seconds) is sent as a `Retry-After` header when not None, so clients that honour it
    retry without a long backoff.
    """
    if body is None or isinstance(body, str):
        message = body or f"fake provider error {code}"
        kind = "rate_limit_exceeded" if code == 429 else "server_error"
        body = {"error": {"message": message, "type": kind, "param": None, "code": kind}}
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    return Scripted("status", status_code=code, body=body, headers=headers)


def hang(seconds: float, then: Scripted | None = None) -> Scripted:
    """Wait `seconds` (or until the server stops) before answering with `then` (a 504 by default)."""
    return Scripted("hang", seconds=seconds, then=then)


def good_fields(idea: str) -> dict[str, Any]:
    """A realistic, high-quality structured answer for `idea`: every field the improver asks for."""
    topic = " ".join(idea.strip().rstrip(".!?").split())
    lowered = topic[:1].lower() + topic[1:]
    return {
        "reasoning": (
            f"The idea asks to {lowered}. It lacks an audience, a length and a success criterion, so the "
            "prompt names an expert role, a concrete deliverable and checks the answer must pass."
        ),
        "improved_prompt": (
            f"You are a senior subject-matter expert and experienced technical writer. Your task: {lowered}.\n"
            "Context: the reader is a busy professional who needs an accurate, actionable result.\n"
            "Steps:\n"
            "1. State the goal and the audience in one sentence.\n"
            "2. Work through the task step by step, naming assumptions explicitly.\n"
            "3. Give concrete examples for every recommendation.\n"
            "4. Finish with a short checklist the reader can act on today.\n"
            "Format: Markdown with headings, at most 600 words."
        ),
        "role": "Senior subject-matter expert and technical writer",
        "directive": f"{topic[:1].upper() + topic[1:]}, step by step, with concrete examples and a final checklist.",
        "framework": "CO-STAR (Context, Objective, Style, Tone, Audience, Response)",
        "guardrails": [
            "Keep the answer under 600 words",
            "State every assumption explicitly",
            "Cite no statistic without naming its source",
            "Use plain language and define any jargon",
            "End with an actionable checklist",
        ],
        "confidence": 0.86,
    }


Responder = Callable[[dict[str, Any]], "Scripted | None"]


def request_text(body: dict[str, Any]) -> str:
    """The text of the request's last user message (Chat Completions `messages` or Responses `input`)."""
    messages = body.get("messages") or body.get("input") or []
    if isinstance(messages, str):
        return messages
    users = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    content = users[-1].get("content", "") if users else ""
    if isinstance(content, list):  # content parts
        content = "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return str(content)


def input_field(body: dict[str, Any], name: str) -> str | None:
    """An input field's value as DSPy's ChatAdapter wrote it in the last user message (`[[ ## name ## ]]`)."""
    match = re.search(rf"\[\[ ## {re.escape(name)} ## \]\]\n(.*?)(?=\n\n\[\[ ## |\n\nRespond with|\Z)",
                      request_text(body), re.S)
    return match.group(1).strip() if match else None


def by_backend(zero_shot: Callable[[str], dict[str, Any]], few_shot: Callable[[str], dict[str, Any]]) -> Responder:
    """Answer improvements from the idea: `few_shot(idea)` when the request carries demonstrations (more
    than a system and a user message), else `zero_shot(idea)`; judge requests fall through."""
    def respond(body: dict[str, Any]) -> Scripted | None:
        idea = input_field(body, "original_idea")
        if idea is None or input_field(body, "candidate_a") is not None:
            return None
        messages = body.get("messages") or body.get("input") or []
        return reply((few_shot if len(messages) > 2 else zero_shot)(idea))
    return respond


def verdict(preferred: str, reason: str = "It addresses the idea more concretely.") -> Scripted:
    """A judge's answer in ChatAdapter format: `preferred` is what the judge says (`A`, `B`, `tie`, or junk)."""
    return reply({"reason": reason, "preferred": preferred})


def judge(decide: Callable[[str, str, str], Scripted | str]) -> Responder:
    """Answer pairwise-judge requests with `decide(idea, candidate_a, candidate_b)`: a `Scripted`, or what the
    judge says in `preferred` (wrapped by `verdict`). Other requests fall through."""
    def respond(body: dict[str, Any]) -> Scripted | None:
        a, b = input_field(body, "candidate_a"), input_field(body, "candidate_b")
        if a is None or b is None:
            return None
        answer = decide(input_field(body, "original_idea") or "", a, b)
        return verdict(answer) if isinstance(answer, str) else answer
    return respond


class _Server(ThreadingHTTPServer):
    # socketserver only tracks (and server_close() only joins) NON-daemon handler threads; with daemon
    # threads a handler still finishing its answer could outlive stop(). stop() wakes hanging handlers
    # first, so joining them is quick.
    daemon_threads = False
    block_on_close = True


class FakeOpenAIServer:
    """A scripted OpenAI-compatible HTTP server on 127.0.0.1; use it as a context manager.

    Args:
        default: the answer once the queue is empty (a good reply for a generic idea if omitted).
        script: answers for the first requests, in order.
        model: the model id listed by `/v1/models` and echoed in completions.
        responder: asked first with each request's JSON body; its answer wins unless it returns None.
    """

    def __init__(
        self, *, default: Scripted | None = None, script: Iterable[Scripted] = (), model: str = "fake-model",
        responder: Responder | None = None,
    ) -> None:
        self.default = default or reply(good_fields("Write a short guide to the topic"))
        self.model = model
        self.responder = responder
        self._queue: deque[Scripted] = deque(script)
        self._requests: list[dict[str, Any]] = []
        self._headers: list[dict[str, str]] = []
        self._paths: list[str] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # ---- script -----------------------------------------------------------------------------------
    def enqueue(self, *answers: Scripted) -> None:
        """Append answers to the queue (consumed before `default`)."""
        with self._lock:
            self._queue.extend(answers)

    def _next_answer(self, body: dict[str, Any]) -> Scripted:
        answer = self.responder(body) if self.responder is not None else None
        if answer is not None:
            return answer
        with self._lock:
            return self._queue.popleft() if self._queue else self.default

    # ---- observations -----------------------------------------------------------------------------
    @property
    def requests(self) -> list[dict[str, Any]]:
        """A copy of the JSON bodies received so far (model calls only), oldest first."""
        with self._lock:
            return list(self._requests)

    @property
    def headers(self) -> list[dict[str, str]]:
        """A copy of the headers (names lower-cased) of every model call received so far, oldest first."""
        with self._lock:
            return list(self._headers)

    @property
    def paths(self) -> list[str]:
        """A copy of the paths of every request received (including `GET /v1/models`)."""
        with self._lock:
            return list(self._paths)

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:PORT/v1`, what an OpenAI client takes as `api_base`/`base_url`."""
        if self._httpd is None:
            raise RuntimeError("FakeOpenAIServer is not running; use it in a `with` block")
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    # ---- lifecycle --------------------------------------------------------------------------------
    def start(self) -> FakeOpenAIServer:
        """Bind an OS-assigned port and serve in a daemon thread."""
        owner = self

        class Handler(_Handler):
            server_owner = owner

        self._httpd = _Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-openai", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Wake hanging handlers, stop serving, close the socket and join every thread."""
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()  # joins the handler threads (block_on_close)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _track(self, path: str, body: dict[str, Any] | None, headers: dict[str, str] | None = None) -> None:
        with self._lock:
            self._paths.append(path)
            if body is not None:
                self._requests.append(body)
                self._headers.append(headers or {})


class _Handler(BaseHTTPRequestHandler):
    server_owner: FakeOpenAIServer
    timeout = 10  # a client that never sends its body cannot pin a handler thread
    # HTTP/1.0: one request per connection, so no handler waits on an idle keep-alive connection.
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass  # keep test output clean

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        owner = self.server_owner
        owner._track(self.path, None)
        if self.path.rstrip("/").endswith("/models"):
            self._send_json(200, {"object": "list", "data": [{"id": owner.model, "object": "model", "owned_by": "fake"}]})
        else:
            self._send_json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        owner = self.server_owner
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {"_unparseable_body": raw.decode("utf-8", "replace")}
        owner._track(self.path, body, {name.lower(): value for name, value in self.headers.items()})
        path = self.path.rstrip("/")
        if not (path.endswith("/chat/completions") or path.endswith("/responses")):
            self._send_json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
            return
        self._answer(owner._next_answer(body), body, responses_api=path.endswith("/responses"))

    def _answer(self, answer: Scripted, body: dict[str, Any], *, responses_api: bool) -> None:
        owner = self.server_owner
        if answer.kind == "hang":
            owner._stopping.wait(answer.seconds)
            then = answer.then or status(504, "fake provider gave up after hanging", retry_after=None)
            self._answer(then, body, responses_api=responses_api)
        elif answer.kind == "status":
            self._send_json(answer.status_code, answer.body or {}, answer.headers)
        elif answer.kind == "refuse":
            kind = (body.get("response_format") or {}).get("type") if isinstance(body.get("response_format"), dict) else None
            if kind in answer.refused:
                message = f"'response_format' of type '{kind}' is not supported by this server"
                self._send_json(400, {"error": {"message": message, "type": "invalid_request_error", "code": 400}})
            else:
                self._answer(answer.then or reply(good_fields("Write a short guide to the topic")), body,
                             responses_api=responses_api)
        elif responses_api:
            self._send_json(200, _responses_payload(_content_for(answer, body), body, owner.model))
        else:
            self._send_json(200, _chat_payload(_content_for(answer, body), body, owner.model, answer.finish_reason))

    def _send_json(self, code: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode("utf-8")
        try:
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test): nothing to answer


def _usage(content: str, body: dict[str, Any]) -> tuple[int, int]:
    prompt_tokens = max(1, len(json.dumps(body.get("messages") or body.get("input") or "")) // 4)
    return prompt_tokens, max(1, len(content) // 4)


def _content_for(answer: Scripted, body: dict[str, Any]) -> str:
    if answer.fields is not None and (body.get("response_format") or body.get("text", {}).get("format")):
        return json.dumps(answer.fields, ensure_ascii=False)
    return answer.content


def _chat_payload(content: str, body: dict[str, Any], model: str, finish_reason: str = "stop") -> dict[str, Any]:
    prompt_tokens, completion_tokens = _usage(content, body)
    return {
        "id": f"chatcmpl-fake-{time.monotonic_ns()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model") or model,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish_reason, "logprobs": None}
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def _responses_payload(content: str, body: dict[str, Any], model: str) -> dict[str, Any]:
    prompt_tokens, completion_tokens = _usage(content, body)
    stamp = time.monotonic_ns()
    return {
        "id": f"resp_fake_{stamp}",
        "object": "response",
        "created_at": int(time.time()),
        "status": "completed",
        "model": body.get("model") or model,
        "output": [
            {
                "type": "message",
                "id": f"msg_fake_{stamp}",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": content, "annotations": []}],
            }
        ],
        "usage": {
            "input_tokens": prompt_tokens,
            "output_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }
