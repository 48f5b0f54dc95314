"""The model server's address (credentials, masking) and the output-mode memory, without any I/O."""

from __future__ import annotations

import pytest

from pipeline.endpoint import InvalidEndpoint, mask_secrets, mask_url, parse_endpoint
from pipeline.model_client import AttemptPolicy, OutputModes
from pipeline.structured_output import OutputMode, output_schema
from prompt_improver.settings import SettingsError, load_settings


def test_credentials_are_split_off_the_url():
    endpoint = parse_endpoint("https://alice:p%40ss@proxy.example:8443/v1")
    assert endpoint.url == "https://proxy.example:8443/v1"
    assert (endpoint.username, endpoint.password) == ("alice", "p@ss")
    assert endpoint.basic_auth_header == "Basic YWxpY2U6cEBzcw=="


def test_a_url_without_credentials_is_kept_and_sends_no_basic_auth():
    endpoint = parse_endpoint("http://[::1]:11434/v1")
    assert endpoint.url == "http://[::1]:11434/v1" and endpoint.basic_auth_header is None


@pytest.mark.parametrize("url", ["http://[::1", "127.0.0.1:8080/v1", "ftp://host/v1", "http://host:99999/v1"])
def test_an_unusable_url_is_refused_in_one_line(url):
    with pytest.raises(InvalidEndpoint) as caught:
        parse_endpoint(url)
    assert "\n" not in str(caught.value)


def test_passwords_are_masked_wherever_a_url_appears_in_a_text():
    text = "failed to connect to http://alice:hunter2@host/v1 and https://bob:x@y/z"
    assert mask_url(text) == "failed to connect to http://alice:***@host/v1 and https://bob:***@y/z"
    assert "hunter2" not in mask_secrets("Basic auth for alice:hunter2 failed", "hunter2")


def test_an_invalid_api_base_is_a_one_line_settings_error_with_the_password_masked(monkeypatch):
    monkeypatch.setenv("LLM_API_BASE", "http://alice:hunter2@[::1")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith("invalid setting(s): LLM_API_BASE:") and "not a valid URL" in message
    assert "hunter2" not in message and "\n" not in message


def test_total_timeout_has_a_default_and_a_bound(monkeypatch):
    assert load_settings().llm_total_timeout_s == 120
    monkeypatch.setenv("LLM_TOTAL_TIMEOUT_S", "0")
    with pytest.raises(SettingsError, match="LLM_TOTAL_TIMEOUT_S"):
        load_settings()


def test_the_output_mode_falls_back_in_order_and_never_climbs_back():
    modes = OutputModes()
    assert modes.current("m") is OutputMode.JSON_SCHEMA
    assert modes.refuse("m", OutputMode.JSON_SCHEMA) is OutputMode.JSON_OBJECT
    # a late refusal of the schema from another thread must not undo what was learned since
    modes.refuse("m", OutputMode.JSON_OBJECT)
    assert modes.refuse("m", OutputMode.JSON_SCHEMA) is OutputMode.CHAT
    assert modes.refuse("m", OutputMode.CHAT) is OutputMode.CHAT
    assert modes.current("other") is OutputMode.JSON_SCHEMA


def test_the_schema_scales_with_the_token_budget_and_stays_within_the_record_limits():
    from pipeline.programs import build_zero_shot
    from store.record import MAX_FIELD_CHARS, MAX_PROMPT_CHARS

    signature = build_zero_shot().improve.predict.signature
    small, huge = output_schema(signature, 200), output_schema(signature, 200_000)
    assert small["properties"]["improved_prompt"]["maxLength"] < huge["properties"]["improved_prompt"]["maxLength"]
    assert huge["properties"]["improved_prompt"]["maxLength"] <= MAX_PROMPT_CHARS
    assert huge["properties"]["reasoning"]["maxLength"] <= MAX_FIELD_CHARS
    assert list(small["properties"])[0] == "reasoning" and small["additionalProperties"] is False


def test_an_attempt_policy_refuses_impossible_values():
    assert AttemptPolicy(max_retries=2).attempts == 3
    with pytest.raises(ValueError, match="max_retries"):
        AttemptPolicy(max_retries=-1)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://prompt:s3cret@db.example:5432/history", "postgresql://prompt:***@db.example:5432/history"),
        ("postgres://prompt:p@ss@db.example/history", "postgres://prompt:***@db.example/history"),  # a raw @
        ("postgresql://prompt@db.example/history", "postgresql://prompt@db.example/history"),  # no password
        ("postgresql:///history?host=/run/postgresql", "postgresql:///history?host=/run/postgresql"),
    ],
)
def test_one_masking_serves_database_urls_as_well(url, shown):
    from store.postgres.urls import mask_url as database_mask

    assert database_mask is mask_url  # one function for every URL we show
    assert mask_url(url) == shown
    assert mask_url(f"cannot connect to {url!r}: refused") == f"cannot connect to {shown!r}: refused"
