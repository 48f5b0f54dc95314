"""The programs over real HTTP (DSPy's native engine) against the fake OpenAI-compatible server:
retries with backoff on 429 and 5xx, and a response cache that never serves one server's answer for another."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import dspy
import pytest
from dspy.utils.exceptions import LMAuthError, LMServerError

from pipeline.lm import build_lm
from pipeline.metrics import score_improvement
from pipeline.normalize import normalize_prediction
from pipeline.programs import build_few_shot, build_zero_shot
from tests.support.fake_openai import FakeOpenAIServer, good_fields, reply, status

IDEA = "Write a blog post explaining SQLite's WAL mode to backend developers"


def _lm(server: FakeOpenAIServer, **overrides):
    options = dict(api_base=server.base_url, timeout_s=10, max_retries=0, cache=False)
    options.update(overrides)
    return build_lm("openai/fake-model", **options)


def _sent_text(request: dict) -> str:
    return json.dumps(request, ensure_ascii=False)


@pytest.mark.parametrize("build", [build_zero_shot, build_few_shot], ids=["zero-shot", "few-shot"])
def test_both_programs_improve_an_idea_over_http(build):
    with FakeOpenAIServer(default=reply(good_fields(IDEA))) as server:
        with dspy.context(lm=_lm(server)):
            prediction = build()(original_idea=IDEA, context="Readers know SQL")
        improved = normalize_prediction(prediction)
        assert improved.role and improved.guardrails and improved.confidence == 0.86
        assert score_improvement(IDEA, improved) >= 0.7
        assert len(server.requests) == 1
        sent = _sent_text(server.requests[0])
        assert "WAL mode to backend developers" in sent
        assert ("Review my python code for bugs".lower() in sent.lower()) == (build is build_few_shot)


@pytest.mark.parametrize("code", [429, 500, 503])
def test_transient_errors_are_retried(code):
    script = [status(code, "try later", retry_after=0), status(code, "try later", retry_after=0)]
    with FakeOpenAIServer(script=script, default=reply(good_fields(IDEA))) as server:
        with dspy.context(lm=_lm(server, max_retries=2)):
            prediction = build_zero_shot()(original_idea=IDEA, context="")
        assert normalize_prediction(prediction).role
        assert len(server.requests) == 3


def test_retries_are_bounded_by_the_setting():
    from pipeline.normalize import translate_model_error

    with FakeOpenAIServer(default=status(500, "still broken", retry_after=0)) as server:
        with dspy.context(lm=_lm(server, max_retries=1)), pytest.raises(LMServerError) as caught:
            build_zero_shot()(original_idea=IDEA, context="")
        assert len(server.requests) == 2
    message = str(translate_model_error(caught.value))
    assert "HTTP 500" in message and "still broken" in message


def test_authentication_errors_are_not_retried():
    with FakeOpenAIServer(default=status(401, "bad key", retry_after=None)) as server:
        with dspy.context(lm=_lm(server, max_retries=3)), pytest.raises(LMAuthError, match="bad key"):
            build_zero_shot()(original_idea=IDEA, context="")
        assert len(server.requests) == 1


CACHED_CALLS = """
import json, sys
import dspy
from pipeline.lm import build_lm
from pipeline.normalize import normalize_prediction
from pipeline.programs import build_zero_shot
cache, first, second = sys.argv[1] == "on", sys.argv[2], sys.argv[3]
roles = []
for base in (first, second, first, second):
    with dspy.context(lm=build_lm("openai/fake-model", api_base=base, max_retries=0, cache=cache)):
        roles.append(normalize_prediction(build_zero_shot()(original_idea="Plan a team offsite", context="")).role)
print(json.dumps(roles))
"""


def _roles_in_a_fresh_process(tmp_path, cache: str, one: FakeOpenAIServer, two: FakeOpenAIServer) -> list[str]:
    # A separate process with its own DSPY_CACHEDIR: the test never touches the user's ~/.dspy_cache, and
    # DSPy's process-wide cache object stays out of this test process.
    env = {**os.environ, "DSPY_CACHEDIR": str(tmp_path / "dspy-cache")}
    result = subprocess.run([sys.executable, "-c", CACHED_CALLS, cache, one.base_url, two.base_url],
                            capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def _server(role: str) -> FakeOpenAIServer:
    return FakeOpenAIServer(default=reply({**good_fields("Plan a team offsite"), "role": role}))


def test_with_cache_on_an_answer_is_reused_only_for_the_same_server(tmp_path):
    with _server("Role from server one") as one, _server("Role from server two") as two:
        roles = _roles_in_a_fresh_process(tmp_path, "on", one, two)
        assert roles == ["Role from server one", "Role from server two"] * 2
        assert len(one.requests) == 1 and len(two.requests) == 1  # the repeats came from the cache


def test_with_cache_off_every_call_reaches_the_server(tmp_path):
    with _server("Role from server one") as one, _server("Role from server two") as two:
        roles = _roles_in_a_fresh_process(tmp_path, "off", one, two)
        assert roles == ["Role from server one", "Role from server two"] * 2
        assert len(one.requests) == 2 and len(two.requests) == 2
    assert not (tmp_path / "dspy-cache").exists() or not any((tmp_path / "dspy-cache").rglob("*.db*"))
