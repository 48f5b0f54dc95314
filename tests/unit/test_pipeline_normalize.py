"""Model output becomes an ImprovedPrompt: loose values normalised, missing fields a precise failure."""

from __future__ import annotations

import logging
import math

import pytest

from pipeline.errors import ImprovementFailed
from pipeline.normalize import (
    ImprovedPrompt,
    normalize_confidence,
    normalize_prediction,
    split_guardrails,
    translate_model_error,
)
from store.record import MAX_FIELD_CHARS, MAX_GUARDRAILS, PromptHistory


def make_answer(**overrides) -> dict:
    answer = {
        "reasoning": "The idea names a topic but no audience.",
        "improved_prompt": "You are a senior editor. Write a 600-word blog post about SQLite for beginners...",
        "role": "Senior technical editor",
        "directive": "Write a beginner-friendly blog post about SQLite",
        "framework": "RTF",
        "guardrails": ["Stay under 600 words", "Define every technical term", "Include one runnable example"],
        "confidence": 0.8,
    }
    answer.update(overrides)
    return answer


@pytest.mark.parametrize(
    ("given", "expected"),
    [("85%", 0.85), ("0.85", 0.85), (85, 0.85), ("85", 0.85), (0.85, 0.85), (1, 1.0), (0, 0.0), ("100", 1.0),
     (" 72 % ", 0.72), ("0.9 (high)", 0.9), ("Confidence: 0.7", 0.7), ("8/10", 0.8), ("1.0", 1.0)],
)
def test_confidence_forms_become_a_fraction(given, expected):
    assert normalize_confidence(given) == pytest.approx(expected)


@pytest.mark.parametrize(
    "given", [-0.1, "-5", 101, "250%", "-3%", "15/10", math.nan, math.inf, "high", "very confident", True]
)
def test_impossible_confidence_becomes_none_with_a_warning(given, caplog):
    with caplog.at_level(logging.WARNING, logger="pipeline.normalize"):
        assert normalize_confidence(given) is None
    assert "impossible confidence" in caplog.text


@pytest.mark.parametrize("given", [None, "", "   "])
def test_absent_confidence_is_none_without_a_warning(given, caplog):
    with caplog.at_level(logging.WARNING, logger="pipeline.normalize"):
        assert normalize_confidence(given) is None
    assert caplog.text == ""


@pytest.mark.parametrize(
    "given",
    [
        "- Stay under 600 words\n- Define terms\n\n- Cite sources",
        "1. Stay under 600 words\n2) Define terms\n3. Cite sources",
        "Stay under 600 words; Define terms; Cite sources",
        '["Stay under 600 words", "Define terms", "Cite sources"]',
        "• Stay under 600 words • Define terms • Cite sources",
        "* Stay under 600 words\n* Define terms\n* Cite sources\n",
        ["- Stay under 600 words", " Define terms ", "", "3. Cite sources"],
    ],
)
def test_guardrails_in_any_common_shape_become_a_clean_list(given):
    assert split_guardrails(given) == ["Stay under 600 words", "Define terms", "Cite sources"]


@pytest.mark.parametrize(
    "guardrail", ["10 words per line at most", "3.5 seconds per answer at most", "-5% tolerance on totals",
                  "2:30 pm is the deadline"],
)
def test_a_guardrail_that_starts_with_a_number_keeps_it(guardrail):
    assert split_guardrails([guardrail]) == [guardrail]
    assert split_guardrails(f"- {guardrail}\n- Cite sources") == [guardrail, "Cite sources"]


def test_a_mapping_given_as_guardrails_is_kept_as_json_text():
    assert split_guardrails({"limit": "600 words"}) == ['{"limit": "600 words"}']


def test_prediction_is_normalised_into_an_improved_prompt():
    improved = normalize_prediction(make_answer(confidence="85%", guardrails="- a rule here\n- another rule"))
    assert improved == ImprovedPrompt(
        improved_prompt="You are a senior editor. Write a 600-word blog post about SQLite for beginners...",
        role="Senior technical editor",
        directive="Write a beginner-friendly blog post about SQLite",
        framework="RTF",
        guardrails=("a rule here", "another rule"),
        confidence=0.85,
        reasoning="The idea names a topic but no audience.",
    )


def test_prediction_object_with_attributes_is_accepted():
    class Answer:
        pass

    answer = Answer()
    for name, value in make_answer().items():
        setattr(answer, name, value)
    assert normalize_prediction(answer).role == "Senior technical editor"


def test_too_many_guardrails_are_capped_to_the_record_limit(caplog):
    with caplog.at_level(logging.WARNING, logger="pipeline.normalize"):
        improved = normalize_prediction(make_answer(guardrails=[f"rule number {i}" for i in range(80)]))
    assert len(improved.guardrails) == MAX_GUARDRAILS
    assert "keeping the first 50" in caplog.text


def test_overlong_text_and_nul_characters_are_made_storable():
    improved = normalize_prediction(make_answer(role="R\x00" + "r" * (MAX_FIELD_CHARS + 10)))
    assert len(improved.role) == MAX_FIELD_CHARS and "\x00" not in improved.role
    record = PromptHistory(
        original_idea="Write a blog post about SQLite", improved_prompt=improved.improved_prompt,
        backend="zero-shot", model_version="m", role=improved.role, guardrails=improved.guardrails,
        confidence=improved.confidence,
    )
    assert record.role == improved.role


def test_lone_surrogates_in_model_output_are_replaced_so_the_record_can_be_stored(caplog):
    # A JSON escape such as "\\udce9" from a model or server decodes to a lone surrogate, which no UTF-8
    # encoder (SQLite, the outbox file) accepts.
    answer = make_answer(role="Caf\udce9 owner", guardrails=["Name the caf\ud800 in every heading", "Stay short"],
                         reasoning="Because \udfff")
    with caplog.at_level(logging.WARNING, logger="pipeline.normalize"):
        improved = normalize_prediction(answer)
    assert improved.role == "Caf\ufffd owner"
    assert improved.guardrails[0] == "Name the caf\ufffd in every heading"
    assert improved.reasoning == "Because \ufffd"
    for text in (improved.role, *improved.guardrails, improved.reasoning, improved.improved_prompt):
        text.encode("utf-8")  # raises if a surrogate is left
    assert "not valid Unicode" in caplog.text


@pytest.mark.parametrize("field", ["improved_prompt", "role", "directive", "framework"])
@pytest.mark.parametrize("empty", [None, "", "   "])
def test_missing_required_field_fails_with_an_excerpt_of_the_answer(field, empty):
    with pytest.raises(ImprovementFailed, match=f"the model's answer has no {field}") as caught:
        normalize_prediction(make_answer(**{field: empty}))
    assert caught.value.excerpt and len(caught.value.excerpt) <= 200
    assert "Senior technical editor" in caught.value.excerpt or field == "role"


def test_excerpt_of_a_long_answer_is_at_most_200_characters():
    with pytest.raises(ImprovementFailed) as caught:
        normalize_prediction(make_answer(role="", improved_prompt="word " * 500))
    assert len(caught.value.excerpt) <= 200


def test_missing_reasoning_is_none():
    assert normalize_prediction(make_answer(reasoning="  ")).reasoning is None


# --- translate_model_error -------------------------------------------------------------------------------


def test_adapter_parse_error_keeps_an_excerpt_of_the_raw_completion():
    import dspy
    from dspy.utils.exceptions import AdapterParseError

    from pipeline.signatures import ImprovePrompt

    raw = "Sure! Here is a better prompt: write a detailed blog post. " * 20
    error = AdapterParseError(adapter_name="ChatAdapter", signature=ImprovePrompt, lm_response=raw)
    failed = translate_model_error(error)
    assert isinstance(failed, ImprovementFailed)
    assert "did not contain the expected fields" in str(failed)
    assert failed.excerpt.startswith("Sure! Here is a better prompt") and len(failed.excerpt) <= 200
    assert failed.__cause__ is error
    assert dspy  # imported for the signature


class RateLimitError(Exception):  # the class name litellm uses
    pass


class APIConnectionError(Exception):
    pass


class AuthenticationError(Exception):
    pass


class Timeout(Exception):
    pass


class NotFoundError(Exception):
    pass


class InternalServerError(Exception):
    pass


@pytest.mark.parametrize(
    ("error", "problem", "hint"),
    [
        (RateLimitError("Rate limit reached for gpt-4o-mini"), "rate-limiting", "LLM_MAX_RETRIES"),
        (APIConnectionError("Connection refused"), "could not reach", "LLM_API_BASE"),
        (AuthenticationError("Incorrect API key provided"), "credentials", "LLM_API_KEY"),
        (Timeout("Request timed out after 60s"), "did not answer within", "LLM_TIMEOUT_S"),
        (NotFoundError("model 'gpt-9' does not exist"), "does not serve the model", "LLM_MODEL"),
        (InternalServerError("upstream exploded"), "HTTP 5xx", "try again later"),
    ],
)
def test_provider_errors_keep_the_providers_message_and_name_the_fix(error, problem, hint):
    failed = translate_model_error(error)
    assert problem in str(failed)
    assert hint in str(failed)
    assert str(error) in str(failed)


def test_dspy_lm_errors_are_translated_with_their_status():
    from dspy.utils.exceptions import LMRateLimitError, LMTransportError

    failed = translate_model_error(LMRateLimitError("slow down", model="openai/x", status=429))
    assert "rate-limiting requests (HTTP 429)" in str(failed) and "slow down" in str(failed)
    assert "LLM_API_BASE" in str(translate_model_error(LMTransportError("failed to connect")))


def test_a_read_timeout_reported_as_a_transport_error_names_the_timeout_setting():
    from dspy.utils.exceptions import LMTransportError

    try:
        try:
            raise TimeoutError("timed out")
        except TimeoutError as cause:
            raise LMTransportError("read timed out waiting for headers: no bytes for 1s") from cause
    except LMTransportError as error:
        failed = translate_model_error(error)
    assert "did not answer within" in str(failed) and "LLM_TIMEOUT_S" in str(failed)
    assert "LLM_API_BASE" not in str(failed)


class APIError(Exception):  # litellm's and the OpenAI SDK's common base
    pass


class BadRequestError(APIError):
    pass


def test_a_bad_request_is_not_mistaken_for_a_server_failure():
    failed = translate_model_error(BadRequestError("max_tokens is too large"))
    assert "rejected the request" in str(failed) and "HTTP 5xx" not in str(failed)


def test_error_is_found_in_the_cause_chain():
    try:
        try:
            raise AuthenticationError("bad key")
        except AuthenticationError as inner:
            raise RuntimeError("wrapper") from inner
    except RuntimeError as outer:
        failed = translate_model_error(outer)
    assert "LLM_API_KEY" in str(failed) and "bad key" in str(failed)


def test_unknown_error_keeps_its_type_and_message():
    failed = translate_model_error(KeyError("surprise"))
    assert "the model call failed: KeyError" in str(failed) and "surprise" in str(failed)


def test_improvement_failed_passes_through_unchanged():
    original = ImprovementFailed("already ours", excerpt="x")
    assert translate_model_error(original) is original
