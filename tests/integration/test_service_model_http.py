"""The improve service through DSPy's real HTTP stack against the fake OpenAI-compatible server.

The LM is built the way the app builds it (`build_lm` from settings values: model `openai/fake-model`,
the server's base URL, cache off), so these tests exercise what a user with a local server runs.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
import threading
from pathlib import Path

import pytest

from pipeline.errors import ImprovementFailed
from pipeline.lm import build_lm
from pipeline.programs import load_program
from pipeline.service import improve
from store.sqlite.migrations import migrate
from store.record import BackendType
from store.sqlite.repository import SQLitePromptRepository
from tests.support.fake_openai import FakeOpenAIServer, good_fields, hang, prose, reply, status

IDEA = "Write a blog post explaining SQLite's WAL mode to backend developers"


@pytest.fixture
def repo(db_path: Path):
    migrate(db_path)
    repository = SQLitePromptRepository(db_path)
    yield repository
    repository.close()


@pytest.fixture(autouse=True)
def _no_thread_left_behind(monkeypatch: pytest.MonkeyPatch):
    # DSPy and litellm would download model metadata from GitHub on first use; tests stay offline.
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    before = set(threading.enumerate())
    yield
    # litellm starts its own logging/cost-map threads on first import; ours are the server's.
    leftover = [t for t in threading.enumerate() if t not in before and t.is_alive() and "fake-openai" in t.name]
    assert leftover == []


def _lm(server: FakeOpenAIServer, *, timeout_s: float = 10, max_retries: int = 0):
    return build_lm(
        "openai/fake-model", api_base=server.base_url, api_key="test", timeout_s=timeout_s,
        max_retries=max_retries, cache=False,
    )


def _improve(server, repo, backend=BackendType.ZERO_SHOT, lm=None, tmp_dir: Path | None = None):
    program, version = load_program(backend, program_dir=tmp_dir)
    return improve(
        IDEA, "Readers know SQL but not SQLite internals", backend, program=program, program_version=version,
        lm=lm or _lm(server), repo=repo, model_version="openai/fake-model",
    )


@pytest.mark.parametrize("backend", [BackendType.ZERO_SHOT, BackendType.FEW_SHOT])
def test_each_backend_improves_an_idea_and_saves_every_field(backend, repo, db_path, tmp_path):
    fields = good_fields(IDEA)
    with FakeOpenAIServer(default=reply(fields)) as server:
        outcome = _improve(server, repo, backend, tmp_dir=tmp_path / "programs")
        requests = server.requests

    assert len(requests) == 1
    assert requests[0]["model"] == "fake-model"
    sent = json.dumps(requests[0]["messages"])
    assert "Readers know SQL but not SQLite internals" in sent
    assert outcome.saved and outcome.persistence_error is None
    with closing(sqlite3.connect(db_path)) as conn, conn:
        row = conn.execute(
            "SELECT id, uid, original_idea, improved_prompt, role, directive, framework, guardrails, backend, "
            "confidence, reasoning, latency_ms, model_version, program_version, quality FROM prompt_history"
        ).fetchall()
    assert len(row) == 1
    (row_id, uid, idea, prompt, role, directive, framework, guardrails, stored_backend, confidence, reasoning,
     latency, model, program_version, quality) = row[0]
    assert (row_id, uid) == (outcome.record.id, outcome.record.uid)
    assert idea == IDEA
    assert prompt == fields["improved_prompt"]
    assert (role, directive, framework) == (fields["role"], fields["directive"], fields["framework"])
    assert json.loads(guardrails) == fields["guardrails"]
    assert stored_backend == backend.value
    assert confidence == pytest.approx(0.86)
    assert reasoning == fields["reasoning"]
    assert latency > 0
    assert model == "openai/fake-model"
    assert program_version == load_program(backend, program_dir=tmp_path / "programs")[1]
    assert 0.6 <= quality <= 1.0


def test_few_shot_sends_the_demonstrations_and_zero_shot_does_not(repo, tmp_path):
    with FakeOpenAIServer(default=reply(good_fields(IDEA))) as server:
        _improve(server, repo, BackendType.ZERO_SHOT)
        _improve(server, repo, BackendType.FEW_SHOT, tmp_dir=tmp_path)
        zero, few = server.requests
    assert len(few["messages"]) > len(zero["messages"])


def test_an_http_500_fails_with_the_providers_message_and_saves_nothing(repo, db_path):
    with FakeOpenAIServer(default=status(500, "upstream GPU node exploded")) as server:
        with pytest.raises(ImprovementFailed, match="upstream GPU node exploded") as failure:
            _improve(server, repo)
    assert "5xx" in str(failure.value) or "500" in str(failure.value)
    with closing(sqlite3.connect(db_path)) as conn, conn:
        assert conn.execute("SELECT count(*) FROM prompt_history").fetchone() == (0,)


def test_a_429_then_success_succeeds_after_a_retry(repo):
    with FakeOpenAIServer(script=[status(429, "slow down")], default=reply(good_fields(IDEA))) as server:
        outcome = _improve(server, repo, lm=_lm(server, max_retries=2))
        attempts = len(server.requests)
    assert attempts == 2
    assert outcome.saved
    assert outcome.record.improved_prompt == good_fields(IDEA)["improved_prompt"]


def test_a_429_with_no_retries_left_names_the_rate_limit(repo):
    with FakeOpenAIServer(default=status(429, "quota of 3 requests per minute used")) as server:
        with pytest.raises(ImprovementFailed, match="rate-limit"):
            _improve(server, repo, lm=_lm(server, max_retries=0))


def test_a_server_that_hangs_past_the_timeout_fails_with_a_timeout_message(repo):
    with FakeOpenAIServer(default=hang(30)) as server:
        with pytest.raises(ImprovementFailed, match="(?i)time") as failure:
            _improve(server, repo, lm=_lm(server, timeout_s=1, max_retries=0))
        attempts = len(server.requests)
    assert attempts == 1
    assert "LLM_TIMEOUT_S" in str(failure.value)


def test_prose_instead_of_fields_fails_with_an_excerpt_of_what_the_model_said(repo, db_path):
    text = "Sure! I'd be happy to help you write a great blog post about SQLite and its WAL mode."
    with FakeOpenAIServer(default=prose(text)) as server:
        with pytest.raises(ImprovementFailed) as failure:
            _improve(server, repo)
        attempts = len(server.requests)
    # ChatAdapter's parse failure makes DSPy retry once with its JSON adapter: two requests.
    assert attempts == 2
    assert failure.value.excerpt is not None and "happy to help" in failure.value.excerpt
    with closing(sqlite3.connect(db_path)) as conn, conn:
        assert conn.execute("SELECT count(*) FROM prompt_history").fetchone() == (0,)


def test_an_empty_required_field_fails_naming_it(repo):
    fields = {**good_fields(IDEA), "role": "   "}
    with FakeOpenAIServer(default=reply(fields)) as server:
        with pytest.raises(ImprovementFailed, match="role"):
            _improve(server, repo)


def test_an_unreachable_server_fails_with_a_connection_message(repo):
    with FakeOpenAIServer() as server:
        lm = _lm(server, max_retries=0)
    with pytest.raises(ImprovementFailed, match="(?i)reach|connect"):
        _improve(None, repo, lm=lm)


@pytest.mark.slow
def test_the_litellm_compatibility_engine_works_against_the_same_server(repo, db_path):
    fields = good_fields(IDEA)
    with FakeOpenAIServer(default=reply(fields)) as server:
        lm = _lm(server).copy(engine="litellm")
        outcome = _improve(server, repo, lm=lm)
        attempts = len(server.requests)
    assert attempts == 1
    assert outcome.saved
    assert outcome.record.guardrails == tuple(fields["guardrails"])
