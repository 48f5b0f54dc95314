"""Building the judge from settings: none without JUDGE_MODEL, temperature 0, and reasoning models that refuse
temperature 0 get the provider's defaults instead of an error."""

from __future__ import annotations

import pytest

from pipeline.errors import ModelNotConfigured
from prompt_improver.settings import load_settings
from prompt_improver.models import build_judge_lm, judge_lm_arguments


def test_without_judge_model_there_is_no_judge(monkeypatch):
    monkeypatch.setenv("LLM_MODEL", "openai/gpt-4o-mini")
    assert judge_lm_arguments(load_settings()) is None
    assert build_judge_lm(load_settings()) is None


def test_the_judge_uses_its_own_model_endpoint_and_key_at_temperature_zero(monkeypatch):
    for name, value in {"JUDGE_MODEL": "openai/judge", "JUDGE_API_BASE": "http://127.0.0.1:9/v1",
                        "JUDGE_API_KEY": "judge-key", "LLM_API_KEY": "main-key", "LLM_TIMEOUT_S": "12"}.items():
        monkeypatch.setenv(name, value)
    lm = build_judge_lm(load_settings())
    assert lm.model == "openai/judge"
    assert (lm.kwargs["temperature"], lm.kwargs["timeout"]) == (0.0, 12.0)
    assert (lm.kwargs["api_base"], lm.kwargs["api_key"]) == ("http://127.0.0.1:9/v1", "judge-key")


def test_a_reasoning_model_as_judge_gets_the_providers_defaults(monkeypatch):
    monkeypatch.setenv("JUDGE_MODEL", "openai/gpt-5")
    lm = build_judge_lm(load_settings())
    assert lm.kwargs["temperature"] is None


@pytest.mark.parametrize("blank", ["", "  "])
def test_a_blank_judge_model_means_no_judge(monkeypatch, blank):
    monkeypatch.setenv("JUDGE_MODEL", blank)
    assert load_settings().judge_model is None


def test_an_unusable_judge_model_is_named_in_the_error(monkeypatch):
    monkeypatch.setenv("JUDGE_MODEL", "openai/")
    with pytest.raises(ModelNotConfigured, match=r"^the judge cannot be used \(JUDGE_MODEL='openai/'\): model"):
        build_judge_lm(load_settings())
