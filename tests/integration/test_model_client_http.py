"""`ModelClient` over real HTTP to the fake OpenAI-compatible server: output modes, attempts, errors."""

from __future__ import annotations

import base64
import threading

import pytest

from pipeline.errors import AnswerTruncated, ImprovementCancelled, ImprovementFailed
from pipeline.model_client import build_model_client
from pipeline.programs import build_few_shot, build_zero_shot
from pipeline.service import improve
from pipeline.structured_output import OutputMode
from store.memory import InMemoryPromptRepository
from tests.support.fake_openai import (
    FakeOpenAIServer,
    good_fields,
    hang,
    prose,
    refuse_format,
    reply,
    status,
    truncated,
)

IDEA = "Write a release note for our CSV export"
INTERNAL_WORDS = ("lm15", "Timeouts(", "Traceback", "RouterConfig")


def _client(server: FakeOpenAIServer, **overrides):
    options = {"api_base": server.base_url, "max_retries": 0, "timeout_s": 10, "max_tokens": 600}
    options.update(overrides)
    return build_model_client("openai/fake-model", **options)


def _improve(client, repo=None, **kwargs):
    program = build_zero_shot()
    return improve(IDEA, program=program, program_version="v", lm=client, repo=repo or InMemoryPromptRepository(),
                   model_version="openai/fake-model", **kwargs)


def _assert_one_clean_line(message: str) -> None:
    assert "\n" not in message
    for word in INTERNAL_WORDS:
        assert word not in message


def test_the_first_request_asks_for_a_bounded_json_schema_and_the_answer_is_saved():
    repo = InMemoryPromptRepository()
    with FakeOpenAIServer(default=reply(good_fields(IDEA))) as server:
        outcome = _improve(_client(server, max_tokens=600), repo)
    assert outcome.saved and outcome.record.role
    fmt = server.requests[0]["response_format"]
    assert fmt["type"] == "json_schema"
    schema = fmt["json_schema"]["schema"]
    assert set(schema["required"]) >= {"improved_prompt", "role", "directive", "framework", "guardrails", "confidence"}
    assert schema["properties"]["confidence"] == {"type": "number", "minimum": 0, "maximum": 1}
    assert schema["properties"]["guardrails"]["minItems"] == 3 and schema["properties"]["guardrails"]["maxItems"] == 7
    # Every string is bounded, and together they fit in the token budget (about 3 characters a token).
    lengths = [prop["maxLength"] for prop in schema["properties"].values() if prop["type"] == "string"]
    lengths += [schema["properties"]["guardrails"]["items"]["maxLength"] * 7]
    assert all(lengths) and sum(lengths) <= 600 * 3


def test_a_server_refusing_the_schema_gets_a_json_object_and_the_client_remembers_it():
    with FakeOpenAIServer(default=refuse_format("json_schema", then=reply(good_fields(IDEA)))) as server:
        client = _client(server)
        first = _improve(client)
        second = _improve(client)
    kinds = [request.get("response_format", {}).get("type") for request in server.requests]
    assert first.saved and second.saved
    assert kinds == ["json_schema", "json_object", "json_object"]  # the refusal is paid for once
    assert client.modes.current(client.key) is OutputMode.JSON_OBJECT


def test_a_server_refusing_every_json_format_gets_dspys_chat_layout():
    with FakeOpenAIServer(default=refuse_format("json_schema", "json_object", then=reply(good_fields(IDEA)))) as server:
        client = _client(server)
        outcome = _improve(client)
    assert outcome.saved
    assert "response_format" not in server.requests[-1]
    assert client.modes.current(client.key) is OutputMode.CHAT


def test_few_shot_demonstrations_are_sent_as_json_in_the_json_modes():
    with FakeOpenAIServer(default=reply(good_fields(IDEA))) as server:
        outcome = improve(IDEA, program=build_few_shot(2), program_version="v", lm=_client(server),
                          repo=InMemoryPromptRepository(), model_version="m")
    assert outcome.saved
    assistant = [m["content"] for m in server.requests[0]["messages"] if m["role"] == "assistant"]
    assert len(assistant) == 2 and all(text.lstrip().startswith("{") for text in assistant)


def test_an_answer_cut_at_the_token_limit_names_llm_max_tokens_and_its_value():
    with FakeOpenAIServer(default=truncated('{"reasoning": "The idea asks for a release note, so the')) as server:
        with pytest.raises(AnswerTruncated) as caught:
            _improve(_client(server, max_tokens=300))
    message = str(caught.value)
    assert "LLM_MAX_TOKENS=300" in message
    assert "expected fields" not in message
    _assert_one_clean_line(message)


def test_an_unusable_answer_quotes_what_the_model_said():
    with FakeOpenAIServer(default=prose("I am sorry, I cannot help with prompts today.")) as server:
        with pytest.raises(ImprovementFailed) as caught:
            _improve(_client(server))
    assert "could not be used" in str(caught.value) and "I am sorry" in str(caught.value)
    _assert_one_clean_line(str(caught.value))


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (status(401, "Invalid API key"), ["refused the credentials", "HTTP 401", "LLM_API_KEY"]),
        (status(404, "model 'fake-model' not found"), ["does not serve the model 'openai/fake-model'", "LLM_MODEL"]),
        (status(429, "Rate limit reached"), ["rate-limiting", "after 3 attempts", "LLM_MAX_RETRIES"]),
        (status(503, "overloaded"), ["HTTP 5xx", "after 3 attempts"]),
    ],
)
def test_provider_errors_are_one_line_naming_the_cause_and_the_fix(answer, expected):
    with FakeOpenAIServer(default=answer) as server:
        with pytest.raises(ImprovementFailed) as caught:
            _improve(_client(server, max_retries=2))
    message = str(caught.value)
    for words in expected:
        assert words in message
    _assert_one_clean_line(message)
    retried = 3 if answer.status_code in (429, 503) else 1
    assert len(server.requests) == retried


def test_a_slow_answer_names_llm_timeout_s_and_the_attempts_are_reported():
    seen: list[tuple[int, int]] = []
    with FakeOpenAIServer(default=hang(5)) as server:
        with pytest.raises(ImprovementFailed) as caught:
            _improve(_client(server, timeout_s=0.3, max_retries=1), on_attempt=lambda n, m: seen.append((n, m)))
    message = str(caught.value)
    assert "LLM_TIMEOUT_S=0.3 s" in message and "after 2 attempts" in message
    _assert_one_clean_line(message)
    assert seen == [(1, 2), (2, 2)]


def test_the_total_budget_stops_retrying_and_says_so():
    with FakeOpenAIServer(default=hang(5)) as server:
        with pytest.raises(ImprovementFailed) as caught:
            # 10 retries allowed, but after the first 0.5 s attempt and a 1 s backoff the 1.2 s budget is spent.
            _improve(_client(server, timeout_s=0.5, total_timeout_s=1.2, max_retries=10))
    assert "LLM_TOTAL_TIMEOUT_S=1.2 s" in str(caught.value)
    assert len(server.requests) < 3


def test_an_unreachable_server_is_named_with_its_password_masked():
    with FakeOpenAIServer() as server:
        base = server.base_url.replace("http://", "http://alice:hunter2@")
    # the server is stopped: nothing listens on its port any more
    with pytest.raises(ImprovementFailed) as caught:
        improve(IDEA, program=build_zero_shot(), program_version="v", repo=InMemoryPromptRepository(),
                model_version="m", lm=build_model_client("openai/fake-model", api_base=base, max_retries=0))
    message = str(caught.value)
    assert "could not reach the model server at http://alice:***@127.0.0.1:" in message
    assert "hunter2" not in message
    _assert_one_clean_line(message)


def test_credentials_in_the_api_base_are_sent_as_basic_auth_not_as_part_of_the_host():
    with FakeOpenAIServer(default=reply(good_fields(IDEA))) as server:
        base = server.base_url.replace("http://", "http://alice:hunter2@")
        outcome = _improve(build_model_client("openai/fake-model", api_base=base, max_retries=0))
    assert outcome.saved
    expected = "Basic " + base64.b64encode(b"alice:hunter2").decode()
    assert server.headers[0].get("authorization") == expected


def test_a_cancelled_improvement_records_nothing():
    repo = InMemoryPromptRepository()
    cancel = threading.Event()
    with FakeOpenAIServer(default=reply(good_fields(IDEA))) as server:
        with pytest.raises(ImprovementCancelled):
            _improve(_client(server), repo, cancel=cancel, on_attempt=lambda n, m: cancel.set())
    assert repo.find_recent(10) == []


def test_the_record_keeps_the_confidence_the_model_gave_not_the_demonstrations():
    fields = {**good_fields(IDEA), "confidence": 0.31}
    with FakeOpenAIServer(default=reply(fields)) as server:
        outcome = improve(IDEA, program=build_few_shot(4), program_version="v", lm=_client(server),
                          repo=InMemoryPromptRepository(), model_version="m")
    assert outcome.record.confidence == 0.31


def test_an_attempt_is_cut_short_by_the_total_budget_and_the_message_names_it():
    with FakeOpenAIServer(default=hang(5)) as server:
        with pytest.raises(ImprovementFailed) as caught:
            _improve(_client(server, timeout_s=3, total_timeout_s=0.8))
    assert "LLM_TOTAL_TIMEOUT_S=0.8 s" in str(caught.value)


def test_a_bug_in_our_program_is_not_disguised_as_a_model_failure():
    def broken_program(**inputs):
        raise KeyError("a bug of ours")

    with FakeOpenAIServer() as server:
        with pytest.raises(KeyError):
            _client(server, max_retries=2).run(broken_program, {"original_idea": IDEA, "context": ""})
    assert server.requests == []
