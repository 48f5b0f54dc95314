"""The packaged demonstrations: enough of them, across distinct domains, complete, and good by our own rubric."""

from __future__ import annotations

import pytest

from pipeline.demonstrations import OUTPUT_FIELDS, load_demonstrations, read_demonstration_records
from pipeline.metrics import criteria_scores, score_improvement
from pipeline.normalize import normalize_prediction

RECORDS = read_demonstration_records()


def test_there_are_at_least_24_demonstrations_across_distinct_domains():
    assert len(RECORDS) >= 24
    domains = {record["domain"] for record in RECORDS}
    assert len(domains) >= 20
    for required in ("software", "data analysis", "writing", "marketing", "education", "research", "operations",
                     "legal/compliance", "customer support", "product"):
        assert required in domains


def test_the_first_four_span_four_domains():
    # The few-shot program takes the first k demonstrations, so the file's order must vary the domain.
    assert len({record["domain"] for record in RECORDS[:4]}) == 4


def test_ideas_are_all_different():
    ideas = [" ".join(record["original_idea"].lower().split()) for record in RECORDS]
    assert len(set(ideas)) == len(ideas)


@pytest.mark.parametrize("record", RECORDS, ids=[record["domain"] for record in RECORDS])
def test_each_demonstration_is_a_complete_target_output(record):
    improved = normalize_prediction(record)
    assert 600 <= len(improved.improved_prompt) <= 2_500
    assert 3 <= len(improved.guardrails) <= 7
    assert 0.0 < improved.confidence <= 1.0
    assert improved.reasoning and len(improved.reasoning) < 400
    assert improved.improved_prompt.count("\n") >= 4  # structured: sections or numbered steps


@pytest.mark.parametrize("record", RECORDS, ids=[record["domain"] for record in RECORDS])
def test_each_demonstration_scores_high_on_the_quality_rubric(record):
    improved = normalize_prediction(record)
    score = score_improvement(record["original_idea"], improved)
    assert score >= 0.8, criteria_scores(record["original_idea"], improved)


def test_demonstrations_load_as_examples_with_the_programs_inputs():
    examples = load_demonstrations()
    assert len(examples) == len(RECORDS)
    first = examples[0]
    assert set(first.inputs().keys()) == {"original_idea", "context"}
    assert set(first.labels().keys()) == set(OUTPUT_FIELDS)
    assert isinstance(first.guardrails, list) and isinstance(first.confidence, float)


def test_demonstrations_carry_varied_confidences_so_a_few_shot_model_has_no_single_value_to_copy():
    confidences = [demo.confidence for demo in load_demonstrations()]
    assert max(confidences) - min(confidences) >= 0.3
    first_four = confidences[:4]  # the default DSPY_FEWSHOT_K
    assert len(set(first_four)) == 4 and max(first_four) - min(first_four) >= 0.2
