"""A model and a pairwise judge on two fake OpenAI-compatible servers, for the Compare judge tests.

The improving model answers few-shot requests with `good_fields` and zero-shot ones with `weak_fields` (a
generic role, one guardrail), so the rubric prefers few-shot on every idea. The judge is scripted per idea
with `decide(idea, candidate_a, candidate_b)`; `prefers_the_expert` is a consistent judge.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tests.support.fake_openai import FakeOpenAIServer, Scripted, by_backend, good_fields, judge, prose

EXPERT_ROLE = good_fields("x")["role"]
JUDGE_MODEL = "openai/judge-model"


def weak_fields(idea: str) -> dict[str, Any]:
    """A worse answer than `good_fields`: lower confidence, a generic role, one guardrail."""
    return good_fields(idea) | {"confidence": 0.55, "role": "Assistant", "guardrails": ["Be helpful"]}


def prefers_the_expert(idea: str, a: str, b: str) -> str:
    """A consistent judge: the candidate with the expert role, whichever position it is shown in."""
    return "A" if f"Role: {EXPERT_ROLE}" in a else "B"


@contextmanager
def model_and_judge(monkeypatch: pytest.MonkeyPatch,
                    decide: Callable[[str, str, str], Scripted | str] = prefers_the_expert,
                    ) -> Iterator[tuple[FakeOpenAIServer, FakeOpenAIServer]]:
    """Both servers running, configured through LLM_* and JUDGE_* environment variables."""
    with FakeOpenAIServer(responder=by_backend(weak_fields, good_fields)) as model, \
            FakeOpenAIServer(responder=judge(decide), model="judge-model") as judge_server:
        for name, value in {"LLM_MODEL": "openai/fake-model", "LLM_API_BASE": model.base_url, "LLM_MAX_RETRIES": "0",
                            "LLM_TIMEOUT_S": "20", "JUDGE_MODEL": JUDGE_MODEL,
                            "JUDGE_API_BASE": judge_server.base_url}.items():
            monkeypatch.setenv(name, value)
        yield model, judge_server


def scripted_judge(*, biased: str, junk: str) -> Callable[[str, str, str], Scripted | str]:
    """A judge that is consistent (`prefers_the_expert`) except on two ideas: on the one starting with `biased`
    it always picks the candidate shown first; on the one starting with `junk` it answers prose, no fields."""
    def decide(idea: str, a: str, b: str) -> Scripted | str:
        if idea.startswith(biased):
            return "A"
        if idea.startswith(junk):
            return prose("Both prompts have strengths and weaknesses; it depends on the reader.")
        return prefers_the_expert(idea, a, b)
    return decide
