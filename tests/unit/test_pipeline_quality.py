"""The quality metric's degeneracy flags: every degenerate answer scores below 0.5 with a flag, every good
answer keeps at least 0.7 with none, over the whole fixture set; and each check's normal case on both sides."""

from __future__ import annotations

import dataclasses
import json

import pytest

from pipeline.demonstrations import read_demonstration_records
from pipeline.normalize import ImprovedPrompt
from pipeline.quality import FLAG_CAP, FLAG_NAMES, METRIC_VERSION, QualityMetric, QualityResult
from tests.support.quality_fixtures import DEGENERATE, GOOD, MODEL_ANSWERS, as_improvement, read_fixture

GOOD_SET = read_fixture(GOOD)
DEGENERATE_SET = read_fixture(DEGENERATE)
MODEL_SET = read_fixture(MODEL_ANSWERS)


@pytest.fixture(scope="module")
def metric() -> QualityMetric:
    return QualityMetric()


def evaluate(metric: QualityMetric, item: dict) -> QualityResult:
    return metric.evaluate(item["original_idea"], as_improvement(item), item.get("context", ""))


def label(item: dict) -> str:
    return f"{item['original_idea'][:30]}: {item.get('note') or item.get('why', '')}"[:90]


# -- the whole fixture set (issue 9's done-when) ---------------------------------------------------------


@pytest.mark.parametrize("item", GOOD_SET, ids=label)
def test_every_good_improvement_keeps_a_high_score_and_no_flag(metric, item):
    result = evaluate(metric, item)
    assert result.flags == ()
    assert result.quality >= 0.7


@pytest.mark.parametrize("item", DEGENERATE_SET + MODEL_SET, ids=label)
def test_every_degenerate_answer_scores_below_half_with_its_flag(metric, item):
    result = evaluate(metric, item)
    assert item["expect_flag"] in result.flags
    assert result.quality < 0.5


def test_the_fixture_set_covers_every_flag_by_hand_and_holds_real_model_answers():
    by_hand = [item["expect_flag"] for item in DEGENERATE_SET]
    assert {flag: by_hand.count(flag) >= 2 for flag in FLAG_NAMES} == dict.fromkeys(FLAG_NAMES, True)
    assert len(MODEL_SET) >= 5 and len(GOOD_SET) >= 10
    assert len({item["original_idea"] for item in GOOD_SET}) == len(GOOD_SET)  # varied, not one idea reworded


def test_the_shipped_demonstrations_are_good_answers_to_their_own_ideas(metric):
    for demo in read_demonstration_records():
        result = evaluate(metric, demo)
        assert (demo["original_idea"], result.flags) == (demo["original_idea"], ())
        assert result.quality >= 0.7, demo["original_idea"]


def test_a_flag_caps_the_score_whatever_the_shape(metric):
    good = GOOD_SET[0]
    shape_perfect = evaluate(metric, good)
    copied = evaluate(metric, {**good, "role": "Senior {role} copywriter"})
    assert shape_perfect.quality == 1.0
    assert copied.criteria == shape_perfect.criteria  # every criterion still at full marks...
    assert copied.quality == FLAG_CAP < 0.5  # ...and the flag caps it


# -- both sides of each check ---------------------------------------------------------------------------

BASE = as_improvement(GOOD_SET[2])  # "review my function for bugs", with a {paste the function here} slot
IDEA = GOOD_SET[2]["original_idea"]


def flags_of(metric, idea: str = IDEA, context: str = "", **changes) -> tuple[str, ...]:
    return metric.flags(idea, dataclasses.replace(BASE, **changes), context)


@pytest.mark.parametrize(
    "slot",
    ["{paste the function here}", "{list of names and scents}", "<your code>", "<context>\n{paste it}\n</context>",
     "[Context] the function I paste", "{input}"],
)
def test_a_slot_for_the_users_material_is_not_a_placeholder(metric, slot):
    prompt = BASE.improved_prompt.replace("{paste the function here}", slot)
    assert "placeholder" not in flags_of(metric, improved_prompt=prompt)


@pytest.mark.parametrize(
    "changes",
    [{"role": "{original_idea}  # 1. Write a cover letter"}, {"improved_prompt": BASE.improved_prompt + "\n{## context #}"},
     {"improved_prompt": BASE.improved_prompt + "\nRole: {{role}}"}, {"directive": "Review {the function} for bugs."},
     {"guardrails": BASE.guardrails + ("Answer in the [[ ## guardrails ## ]] format.",)}],
)
def test_a_placeholder_naming_our_fields_or_standing_in_a_field_is_flagged(metric, changes):
    assert "placeholder" in flags_of(metric, **changes)


def test_a_prompt_mostly_fenced_is_normal_when_the_fence_holds_the_users_own_code(metric):
    code = ("def total(items, discount):\n    subtotal = sum(i.price * i.quantity for i in items)\n"
            "    if discount > 1:\n        discount = discount / 100\n    return subtotal - subtotal * discount")
    prompt = f"Review this function for bugs:\n```python\n{code}\n```\nList each bug with a fix."
    assert "code_or_metadata" not in flags_of(metric, context=code, improved_prompt=prompt)
    assert "code_or_metadata" in flags_of(metric, context="", improved_prompt=prompt)


@pytest.mark.parametrize("field", ["role", "directive", "framework"])
@pytest.mark.parametrize("value", ["```text\nreviewer\n```", "Reviewer 2024-05-01 10:00", "RISEN v1.2.0"])
def test_fences_timestamps_and_versions_in_a_prose_field_are_flagged(metric, field, value):
    assert "code_or_metadata" in flags_of(metric, **{field: value})


def test_a_directive_restating_the_idea_is_normal_but_copied_fields_are_not(metric):
    assert flags_of(metric, directive="Review my function for bugs.") == ()
    same = "Review the pasted function for bugs and propose a fix for each one."
    assert "echo" in flags_of(metric, framework=same, directive=same)


def test_copying_a_demonstration_is_flagged_unless_the_idea_is_its_task(metric):
    demo = read_demonstration_records()[0]  # "review my python code for bugs"
    copy = {"role": demo["role"], "guardrails": tuple(demo["guardrails"])}
    assert "copied_demonstration" in flags_of(metric, idea="review my rust function for bugs please", **copy)
    assert "copied_demonstration" not in flags_of(metric, idea="review my python code for bugs", **copy)


def test_the_metric_checks_copying_against_the_demonstrations_it_was_built_with(metric):
    demo = read_demonstration_records()[3]
    improved = dataclasses.replace(BASE, role=demo["role"])
    assert "copied_demonstration" in metric.flags(IDEA, improved)
    assert "copied_demonstration" not in QualityMetric(demonstrations=[]).flags(IDEA, improved)


@pytest.mark.parametrize(
    "ending",
    ["\n3. Cover transactions and one common pitfall", "\nFormat: Markdown table", "\n\n## What this is",
     "\nSee https://example.com/docs/", "\n| Severity | Fix |\n|---|---|\n| high | use a lock |"],
)
def test_a_list_item_or_heading_without_a_full_stop_is_not_cut(metric, ending):
    assert "truncated" not in flags_of(metric, improved_prompt=BASE.improved_prompt + ending)


@pytest.mark.parametrize("ending", [" and make sure that the", " with a verdict,", "\n```python\ndef f("])
def test_a_prompt_cut_mid_sentence_is_flagged(metric, ending):
    assert "truncated" in flags_of(metric, improved_prompt=BASE.improved_prompt + ending)


def test_repeated_lines_and_duplicate_guardrails_are_flagged_but_similar_rules_are_not(metric):
    similar = ("Do not invent statistics", "Do not invent sources", "Keep the review under 300 words")
    assert "repetition" not in flags_of(metric, guardrails=similar)
    assert "repetition" in flags_of(metric, guardrails=similar + ("Keep the review under 300 words.",))
    looping = BASE.improved_prompt + "\nCheck every line for bugs carefully now." * 3
    assert "repetition" in flags_of(metric, improved_prompt=looping)


@pytest.mark.parametrize("text", ["As an AI language model, I cannot review code.", "I'm sorry, but I can't help."])
def test_refusals_are_flagged(metric, text):
    assert "meta_answer" in flags_of(metric, improved_prompt=BASE.improved_prompt + "\n" + text)


def test_an_idea_without_key_terms_is_never_off_topic(metric):
    assert "off_topic" not in flags_of(metric, idea="do it now")


# -- the result and the metric object ---------------------------------------------------------------------


def test_a_result_serialises_with_its_criteria_flags_and_version(metric):
    result = evaluate(metric, DEGENERATE_SET[0])
    data = json.loads(json.dumps(result.to_dict()))
    assert set(data) == {"quality", "criteria", "flags", "metric_version"}
    assert data["metric_version"] == METRIC_VERSION and data["flags"] == list(result.flags)
    with pytest.raises(TypeError):
        result.criteria["role"] = 1.0  # type: ignore[index]


@pytest.mark.parametrize(("quality", "flags"), [(1.5, ()), (0.5, ("not_a_flag",))])
def test_a_result_refuses_an_impossible_score_or_flag(quality, flags):
    with pytest.raises(ValueError):
        QualityResult(quality, {}, flags)


def test_evaluating_twice_gives_the_same_result_and_leaves_the_input_alone(metric):
    improved = ImprovedPrompt(**{**dataclasses.asdict(BASE)})
    assert evaluate(metric, GOOD_SET[3]) == evaluate(metric, GOOD_SET[3])
    metric.evaluate(IDEA, improved)
    assert improved == BASE
