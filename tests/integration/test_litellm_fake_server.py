"""The fake OpenAI-compatible server itself: what it answers, and that it never outlives its test.

The model path through it (DSPy's LM, HTTP errors, retries, timeouts) is tested in
`test_service_model_http.py`.
"""

from __future__ import annotations

import json
import socket
import threading
import urllib.error
import urllib.request

import dspy
import pytest

from tests.support.fake_openai import FakeOpenAIServer, good_fields, hang, prose, reply, status


def _post(url: str, body: dict, timeout: float = 5) -> tuple[int, dict]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _content(payload: dict) -> str:
    return payload["choices"][0]["message"]["content"]


def test_models_endpoint_lists_the_fake_model():
    with FakeOpenAIServer() as server:
        with urllib.request.urlopen(server.base_url + "/models", timeout=5) as response:
            listing = json.loads(response.read())
    assert [model["id"] for model in listing["data"]] == ["fake-model"]


def test_script_is_consumed_in_order_then_the_default_repeats():
    with FakeOpenAIServer(default=prose("the default"), script=[status(500, "first fails"), prose("second")]) as server:
        answers = [_post(server.base_url + "/chat/completions", {"model": "fake-model", "n": i}) for i in range(4)]
        received = server.requests
    assert answers[0] == (500, {"error": {"message": "first fails", "type": "server_error", "param": None,
                                          "code": "server_error"}})
    assert [_content(body) for _, body in answers[1:]] == ["second", "the default", "the default"]
    assert [body["n"] for body in received] == [0, 1, 2, 3]


def test_reply_is_parsed_by_dspys_chat_adapter_with_list_and_float_fields():
    class Improve(dspy.Signature):
        """Improve an idea."""

        original_idea: str = dspy.InputField()
        improved_prompt: str = dspy.OutputField()
        guardrails: list[str] = dspy.OutputField()
        confidence: float = dspy.OutputField()

    fields = good_fields("Write a blog post about SQLite")
    with FakeOpenAIServer(default=reply(fields)) as server:
        _, payload = _post(server.base_url + "/chat/completions", {"model": "fake-model"})
    parsed = dspy.ChatAdapter().parse(Improve, _content(payload))
    assert parsed["guardrails"] == fields["guardrails"]
    assert parsed["confidence"] == pytest.approx(0.86)
    assert parsed["improved_prompt"] == fields["improved_prompt"]


def test_good_fields_are_a_complete_specific_answer_for_the_idea():
    fields = good_fields("Plan a database migration for our billing service")
    assert set(fields) == {"reasoning", "improved_prompt", "role", "directive", "framework", "guardrails", "confidence"}
    assert "database migration for our billing service" in fields["improved_prompt"]
    assert 3 <= len(fields["guardrails"]) <= 7
    assert 0 < fields["confidence"] <= 1


def test_a_hanging_answer_is_cut_short_by_stop_and_leaves_no_thread_behind():
    before = set(threading.enumerate())
    with FakeOpenAIServer(default=hang(60)) as server:
        with pytest.raises((socket.timeout, urllib.error.URLError, TimeoutError)):
            _post(server.base_url + "/chat/completions", {"model": "fake-model"}, timeout=0.3)
    leftover = [thread for thread in threading.enumerate() if thread not in before and thread.is_alive()]
    assert leftover == []
    with pytest.raises((ConnectionError, urllib.error.URLError)):
        _post(server.base_url + "/chat/completions", {"model": "fake-model"}, timeout=1)
