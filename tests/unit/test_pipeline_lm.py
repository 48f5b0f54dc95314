"""Building the model from settings: clear errors when unconfigured, settings applied, cache partitioned."""

from __future__ import annotations

import subprocess
import sys

import pytest

from pipeline.errors import ModelNotConfigured
from pipeline.lm import NO_KEY, build_lm, cache_namespace, describe_model


@pytest.mark.parametrize("model", [None, "", "   "])
def test_no_model_raises_model_not_configured_listing_how_to_configure_one(model):
    with pytest.raises(ModelNotConfigured) as caught:
        build_lm(model)
    message = str(caught.value)
    for expected in ("LLM_MODEL=openai/gpt-4o-mini", "OPENAI_API_KEY", "anthropic/claude-haiku-4-5",
                     "ANTHROPIC_API_KEY", "LLM_API_BASE=http://127.0.0.1:11434/v1", "ollama_chat/qwen2.5"):
        assert expected in message


def test_model_string_without_a_model_name_is_refused():
    with pytest.raises(ModelNotConfigured, match="'openai/' is not a usable model string"):
        build_lm("openai/")


def test_settings_a_model_refuses_are_named():
    with pytest.raises(ModelNotConfigured, match="LLM_TEMPERATURE and LLM_MAX_TOKENS"):
        build_lm("openai/gpt-5", temperature=0.2, max_tokens=2000)


def test_settings_reach_the_lm():
    lm = build_lm("openai/gpt-4o-mini", api_key="sk-test", timeout_s=12.5, max_retries=5, temperature=0.4,
                  max_tokens=900)
    assert lm.model == "openai/gpt-4o-mini"
    assert lm.kwargs["temperature"] == 0.4 and lm.kwargs["max_tokens"] == 900
    assert lm.kwargs["timeout"] == 12.5 and lm.kwargs["api_key"] == "sk-test"
    assert lm.num_retries == 5
    assert lm.cache is False and "rollout_id" not in lm.kwargs


def test_a_custom_server_without_a_key_gets_a_placeholder_not_the_providers_key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-real-openai-key")
    lm = build_lm("openai/qwen2.5", api_base="http://127.0.0.1:11434/v1")
    assert lm.kwargs["api_base"] == "http://127.0.0.1:11434/v1"
    assert lm.kwargs["api_key"] == NO_KEY


def test_the_bundled_price_map_is_used_unless_the_user_chose(monkeypatch):
    import os

    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "placeholder")  # restored after the test
    monkeypatch.delenv("LITELLM_LOCAL_MODEL_COST_MAP")
    build_lm("openai/gpt-4o-mini", api_key="k")
    assert os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] == "True"
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "false")
    build_lm("openai/gpt-4o-mini", api_key="k")
    assert os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] == "false"


def test_hosted_provider_without_a_key_uses_its_environment_variable():
    lm = build_lm("anthropic/claude-haiku-4-5")
    assert "api_key" not in lm.kwargs and "api_base" not in lm.kwargs


def _dspy_cache_key(lm) -> str:
    import dspy
    from dspy.clients.execution import IGNORED_CACHE_KEYS, prepare

    call = prepare(lm, None, [{"role": "user", "content": "Improve: write a haiku"}], {}, direct=True)
    return dspy.cache.cache_key(call.key(lm, False), IGNORED_CACHE_KEYS)


def test_dspy_alone_would_share_cached_answers_between_servers():
    # Why the partition exists: DSPy's cache key ignores api_base.
    import dspy

    one = dspy.LM("openai/same-name", api_base="http://10.0.0.1:8000/v1", api_key="k", cache=True)
    two = dspy.LM("openai/same-name", api_base="http://10.0.0.2:8000/v1", api_key="k", cache=True)
    assert _dspy_cache_key(one) == _dspy_cache_key(two)


def test_with_cache_on_each_server_gets_its_own_cache_key():
    one = build_lm("openai/same-name", api_base="http://10.0.0.1:8000/v1", cache=True)
    two = build_lm("openai/same-name", api_base="http://10.0.0.2:8000/v1", cache=True)
    hosted = build_lm("openai/same-name", api_key="k", cache=True)
    assert one.cache is True
    keys = {_dspy_cache_key(one), _dspy_cache_key(two), _dspy_cache_key(hosted)}
    assert len(keys) == 3
    again = build_lm("openai/same-name", api_base="http://10.0.0.1:8000/v1/", cache=True)
    assert _dspy_cache_key(again) == _dspy_cache_key(one)  # a trailing slash is the same server


def test_cache_namespace_is_stable_and_endpoint_specific():
    assert cache_namespace("http://a/v1") == cache_namespace("http://a/v1/")
    assert cache_namespace("http://a/v1") != cache_namespace("http://b/v1")
    assert cache_namespace(None) == cache_namespace(None)


def test_no_warning_about_rollout_id_at_temperature_zero(recwarn):
    build_lm("openai/gpt-4o-mini", api_key="k", temperature=0.0, cache=True)
    assert not [w for w in recwarn if "rollout_id" in str(w.message)]


@pytest.mark.parametrize(
    ("model", "api_base", "expected"),
    [
        ("openai/gpt-4o-mini", None, "openai/gpt-4o-mini"),
        ("openai/qwen2.5", "http://127.0.0.1:11434/v1", "openai/qwen2.5 @ http://127.0.0.1:11434/v1"),
        ("openai/x", "https://user:secret@proxy.example/v1", "openai/x @ https://user:***@proxy.example/v1"),
        (None, None, "no model configured (set LLM_MODEL)"),
        ("  ", "http://x", "no model configured (set LLM_MODEL)"),
    ],
)
def test_describe_model(model, api_base, expected):
    assert describe_model(model, api_base) == expected


def test_building_programs_and_lm_imports_neither_litellm_nor_dspy_needlessly():
    code = (
        "import sys\n"
        "import pipeline.normalize, pipeline.validation, pipeline.metrics, pipeline.lm, pipeline.programs\n"
        "assert 'dspy' not in sys.modules, 'dspy imported by a light module'\n"
        "from pipeline.lm import build_lm\n"
        "from pipeline.programs import build_few_shot, program_version\n"
        "build_lm('openai/gpt-4o-mini', api_key='k'); program_version(build_few_shot(4))\n"
        "print('litellm' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
