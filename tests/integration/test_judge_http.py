"""`ServiceJudge` over real HTTP to the fake OpenAI-compatible server: a choice, a junk answer, a junk answer
whose retry fails in transit, and the error hints naming the JUDGE_* settings."""

from __future__ import annotations

import pytest

from pipeline.judge import JudgeFailed, ServiceJudge
from pipeline.lm import build_lm
from tests.support.builders import make_record
from tests.support.fake_openai import FakeOpenAIServer, prose, status, verdict

ZERO, FEW = make_record(role="Assistant", backend="zero-shot"), make_record(role="Senior onboarding lead")


def ask(server: FakeOpenAIServer):
    lm = build_lm("openai/judge", api_base=server.base_url, temperature=0.0, max_retries=0, timeout_s=20)
    return ServiceJudge(lm=lm)("Write a welcome email for new gym members", "", ZERO, FEW)


def test_a_choice_is_read_with_its_reason_and_the_candidates_are_shown_in_order():
    with FakeOpenAIServer(default=verdict("**B**", "B names a concrete role.")) as server:
        answer = ask(server)
        (request,) = server.requests
    assert (answer.choice, answer.reason, answer.raw) == ("B", "B names a concrete role.", "**B**")
    user = request["messages"][-1]["content"]
    assert user.index("Role: Assistant") < user.index("Role: Senior onboarding lead")
    assert "0.82" not in user  # the judge never sees the confidence (or the quality)


def test_an_answer_without_the_fields_is_unparsed_with_what_the_judge_said():
    with FakeOpenAIServer(default=prose("Both prompts are nice, honestly.")) as server:
        answer = ask(server)
    assert (answer.choice, answer.reason) == (None, None)
    assert "Both prompts are nice, honestly." in answer.raw


def test_a_junk_answer_whose_json_retry_fails_is_a_failed_call_about_the_judge():
    # DSPy retries an unreadable answer once in JSON mode; if that call fails, nothing was answered.
    with FakeOpenAIServer(script=[prose("junk"), status(500, "the judge server crashed")]) as server:
        with pytest.raises(JudgeFailed, match="retry in JSON failed") as failed:
            ask(server)
    assert "improved_prompt" not in str(failed.value)


def test_a_rejected_key_names_judge_api_key():
    with FakeOpenAIServer(default=status(401, "invalid api key", retry_after=None)) as server:
        with pytest.raises(JudgeFailed, match="JUDGE_API_KEY") as failed:
            ask(server)
    assert "LLM_API_KEY" not in str(failed.value)
