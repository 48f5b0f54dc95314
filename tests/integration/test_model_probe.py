"""`doctor`'s model probe and the search for local servers, over real HTTP to the fake server."""

from __future__ import annotations

import socket

import pytest

from pipeline.probe import AUTH_REFUSED, MODEL_NOT_SERVED, REACHABLE, UNREACHABLE, discover_local_servers, probe_model
from prompt_improver.cli import main
from tests.support.fake_openai import FakeOpenAIServer, prose, status


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def doctor(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")

    def _run() -> tuple[int, str, str]:
        code = main(["doctor", "--db", str(tmp_path / "history.db")])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return _run


def test_a_served_model_is_reachable_after_one_tiny_completion():
    with FakeOpenAIServer(model="qwen2.5", default=prose("OK")) as server:
        result = probe_model("openai/qwen2.5", server.base_url)
    assert result.state == REACHABLE and result.usable and result.answer == "OK"
    limit = server.requests[0].get("max_tokens") or server.requests[0].get("max_completion_tokens")
    assert len(server.requests) == 1 and limit <= 3


def test_a_listed_model_whose_server_fails_is_not_usable():
    with FakeOpenAIServer(model="qwen2.5", default=status(500, "upstream exploded")) as server:
        result = probe_model("openai/qwen2.5", server.base_url)
    assert not result.usable and "upstream exploded" in result.message


def test_an_unlisted_model_the_server_refuses_is_not_served():
    with FakeOpenAIServer(model="qwen2.5", default=status(404, "model 'llama3' not found")) as server:
        result = probe_model("openai/llama3", server.base_url)
    assert result.state == MODEL_NOT_SERVED and "LLM_MODEL" in result.fix
    assert result.models == ("qwen2.5",)


def test_refused_credentials_are_reported_as_such():
    with FakeOpenAIServer(default=status(401, "bad key")) as server:
        result = probe_model("openai/other", server.base_url, "wrong")
    assert result.state == AUTH_REFUSED and "LLM_API_KEY" in result.fix


def test_nothing_listening_is_unreachable_with_the_url_masked():
    result = probe_model("openai/x", f"http://me:hunter2@127.0.0.1:{_free_port()}/v1")
    assert result.state == UNREACHABLE
    assert "http://me:***@127.0.0.1:" in result.message and "hunter2" not in result.message


def test_discovery_lists_the_models_of_a_server_on_the_loopback():
    with FakeOpenAIServer(model="qwen2.5") as server:
        port = int(server.base_url.rsplit(":", 1)[1].split("/")[0])
        found = discover_local_servers(ports={port: "Ollama", _free_port(): "vLLM"})
    assert [(item.name, item.models) for item in found] == [("Ollama", ("qwen2.5",))]
    assert found[0].settings_for("qwen2.5") == {"LLM_MODEL": "openai/qwen2.5", "LLM_API_BASE": f"http://127.0.0.1:{port}/v1"}


def test_doctor_exits_1_naming_the_url_when_the_model_server_is_down(doctor, monkeypatch):
    base = f"http://127.0.0.1:{_free_port()}/v1"
    monkeypatch.setenv("LLM_MODEL", "openai/qwen2.5")
    monkeypatch.setenv("LLM_API_BASE", base)
    code, out, err = doctor()
    assert code == 1
    assert f"the model server at {base} is unreachable" in err
    assert "fix: start the server, or correct LLM_API_BASE" in err
    assert "status: ok" not in out


def test_doctor_exits_0_when_the_configured_model_is_served(doctor, monkeypatch):
    with FakeOpenAIServer(model="qwen2.5") as server:
        monkeypatch.setenv("LLM_MODEL", "openai/qwen2.5")
        monkeypatch.setenv("LLM_API_BASE", server.base_url)
        code, out, _ = doctor()
    assert code == 0 and "reachable" in out and "status: ok" in out
