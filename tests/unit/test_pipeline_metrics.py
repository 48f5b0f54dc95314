"""The quality rubric: one test per criterion on hand-made good and bad outputs, and its DSPy metric form."""

from __future__ import annotations

import dataclasses

import pytest

from pipeline.metrics import (
    QUALITY_THRESHOLD,
    WEIGHTS,
    criteria_scores,
    prompt_quality_metric,
    score_improvement,
)
from pipeline.normalize import ImprovedPrompt

IDEA = "blog post about sqlite for beginners"

GOOD = ImprovedPrompt(
    improved_prompt=(
        "You are a senior technical writer who teaches databases to newcomers.\n\n"
        "Task: Write a blog post about SQLite for beginners who know basic Python but have never used a "
        "database.\n\nSteps:\n1. Explain what SQLite is and when to choose it over a server database.\n"
        "2. Show how to create a table, insert rows and query them with Python's sqlite3 module.\n"
        "3. Cover transactions and one common pitfall.\n\nFormat: 800-1,000 words, Markdown headings, three "
        "short code examples, and a closing checklist of five next steps."
    ),
    role="Senior technical writer for database beginners",
    directive="Write a beginner-friendly blog post about SQLite with runnable Python examples.",
    framework="RTF (role, task, format)",
    guardrails=(
        "Keep the post between 800 and 1,000 words",
        "Use only Python's standard-library sqlite3 module in examples",
        "Define every database term the first time it appears",
        "Do not compare SQLite with vendors using invented benchmarks",
    ),
    confidence=0.85,
    reasoning="Beginners need a role, steps and a format.",
)


def with_(**changes) -> ImprovedPrompt:
    return dataclasses.replace(GOOD, **changes)


def test_weights_sum_to_one():
    assert sum(WEIGHTS.values()) == pytest.approx(1.0)


def test_a_complete_specific_prompt_scores_full_marks():
    assert score_improvement(IDEA, GOOD) == 1.0
    assert all(value == 1.0 for value in criteria_scores(IDEA, GOOD).values())


def test_a_copy_of_the_idea_with_empty_fields_scores_low():
    bad = ImprovedPrompt(improved_prompt=IDEA, role="assistant", directive="blog", framework="", guardrails=())
    assert score_improvement(IDEA, bad) <= 0.3


@pytest.mark.parametrize(
    ("role", "expected"),
    [("Senior technical writer", 1.0), ("Copywriter", 0.6), ("AI assistant", 0.0), ("assistant", 0.0),
     ("A helpful AI", 0.0), ("", 0.0), ("Expert", 0.0)],
)
def test_role_must_be_specific(role, expected):
    assert criteria_scores(IDEA, with_(role=role))["role"] == expected


@pytest.mark.parametrize(
    ("directive", "expected"),
    [
        ("Write a beginner-friendly blog post about SQLite.", 1.0),
        ("Please write a blog post about SQLite for beginners.", 1.0),
        ("A blog post about SQLite for beginners.", 0.5),  # covers the idea but is not imperative
        ("Write something interesting.", 0.5),  # imperative but names none of the idea's key terms
        ("", 0.0),
    ],
)
def test_directive_must_be_imperative_and_cover_the_ideas_key_terms(directive, expected):
    assert criteria_scores(IDEA, with_(directive=directive))["directive"] == pytest.approx(expected)


@pytest.mark.parametrize(
    ("framework", "expected"),
    [("CO-STAR", 1.0), ("costar", 1.0), ("Chain of Thought", 1.0), ("RISEN framework", 1.0), ("AIDA", 1.0),
     ("STAR method", 1.0), ("My own structure", 0.4), ("", 0.0)],
)
def test_framework_must_be_a_named_known_one(framework, expected):
    assert criteria_scores(IDEA, with_(framework=framework))["framework"] == expected


@pytest.mark.parametrize(
    ("guardrails", "expected"),
    [
        (GOOD.guardrails, 1.0),
        (GOOD.guardrails[:3], 1.0),
        (GOOD.guardrails[:2], 0.5),  # too few
        (GOOD.guardrails[:1], 0.0),
        ((), 0.0),
        (GOOD.guardrails * 2, 0.5),  # 8: too many
        (("Be clear", "Be accurate and helpful", "Be concise", "Keep it professional"), 0.0),  # vague
        (GOOD.guardrails[:3] + ("Be clear",), 0.75),  # one vague of four
    ],
)
def test_guardrails_must_be_three_to_seven_concrete_ones(guardrails, expected):
    assert criteria_scores(IDEA, with_(guardrails=tuple(guardrails)))["guardrails"] == pytest.approx(expected)


def test_prompt_must_cover_the_ideas_key_terms():
    off_topic = with_(improved_prompt="You are a chef. Describe a recipe for pasta with tomatoes, step by step, "
                      "listing ingredients, quantities, timings and plating advice for a dinner party of six.")
    assert criteria_scores(IDEA, GOOD)["coverage"] == 1.0
    assert criteria_scores(IDEA, off_topic)["coverage"] == 0.0


def test_key_terms_match_across_word_forms():
    analysis = with_(improved_prompt="You are an analyst. Run an analysis of customer churning patterns " * 5)
    assert criteria_scores("analyse why customers churn", analysis)["coverage"] == 1.0


def test_prompt_must_not_be_a_copy_of_the_idea():
    assert criteria_scores(IDEA, with_(improved_prompt="Blog post about SQLite for beginners!"))["length"] == 0.0


def test_prompt_must_not_be_much_shorter_than_needed():
    assert criteria_scores(IDEA, with_(improved_prompt="Write a SQLite blog post for beginners, please."))[
        "length"
    ] < 0.5


def test_prompt_must_not_be_bloated():
    bloated = GOOD.improved_prompt + "\nMore detail." * 600
    assert criteria_scores(IDEA, with_(improved_prompt=bloated))["length"] == 0.3


@pytest.mark.parametrize(
    "text",
    ["Write for [insert audience here].", "TODO: add the format", "Lorem ipsum dolor sit amet", "Dear <your name>, thank you."],
)
def test_placeholder_text_loses_the_criterion_and_caps_the_score(text):
    improved = with_(improved_prompt=GOOD.improved_prompt + "\n" + text)
    assert criteria_scores(IDEA, improved)["no_placeholder"] == 0.0
    assert score_improvement(IDEA, improved) == 0.6


def test_placeholder_in_a_guardrail_counts_too():
    improved = with_(guardrails=GOOD.guardrails + ("Mention [your company] twice",))
    assert criteria_scores(IDEA, improved)["no_placeholder"] == 0.0


def test_score_is_deterministic_and_within_the_unit_interval():
    scores = {score_improvement(IDEA, GOOD) for _ in range(5)}
    assert len(scores) == 1 and 0.0 <= scores.pop() <= 1.0


def test_key_terms_work_beyond_ascii():
    french = with_(improved_prompt="Tu es un rédacteur. Écris un article de blog sur la pâtisserie française "
                   "pour débutants, en trois étapes, avec des exemples concrets et une liste de contrôle finale.")
    assert criteria_scores("article sur la pâtisserie française", french)["coverage"] == 1.0
    assert criteria_scores("article sur la pâtisserie française", GOOD)["coverage"] == 0.0


def test_idea_without_key_terms_counts_as_covered():
    assert criteria_scores("do it now", GOOD)["coverage"] == 1.0


# --- the DSPy metric -------------------------------------------------------------------------------------


def prediction_of(improved: ImprovedPrompt):
    import dspy

    return dspy.Prediction(**{**dataclasses.asdict(improved), "guardrails": list(improved.guardrails)})


def example_of(idea: str):
    import dspy

    return dspy.Example(original_idea=idea, context="").with_inputs("original_idea", "context")


def test_metric_returns_the_score_when_evaluating():
    assert prompt_quality_metric(example_of(IDEA), prediction_of(GOOD)) == 1.0


def test_metric_returns_pass_or_fail_while_bootstrapping():
    weak = with_(role="assistant", framework="", guardrails=(), directive="")
    assert prompt_quality_metric(example_of(IDEA), prediction_of(GOOD), trace=[]) is True
    assert score_improvement(IDEA, weak) < QUALITY_THRESHOLD
    assert prompt_quality_metric(example_of(IDEA), prediction_of(weak), trace=[]) is False


def test_metric_scores_an_unusable_prediction_zero():
    import dspy

    empty = dspy.Prediction(improved_prompt="", role="", directive="", framework="", guardrails=[], confidence=None)
    assert prompt_quality_metric(example_of(IDEA), empty) == 0.0
    assert prompt_quality_metric(example_of(IDEA), empty, trace=[]) is False


def test_metric_works_with_dspy_evaluate():
    import dspy
    from dspy.utils import DummyLM

    from pipeline.programs import build_zero_shot

    answer = {**dataclasses.asdict(GOOD), "guardrails": list(GOOD.guardrails)}
    evaluate = dspy.Evaluate(devset=[example_of(IDEA)], metric=prompt_quality_metric, num_threads=1,
                             display_progress=False)
    with dspy.context(lm=DummyLM([answer])):
        result = evaluate(build_zero_shot())
    assert result.score == pytest.approx(100.0)


def test_the_weights_cannot_be_changed_in_place():
    with pytest.raises(TypeError):
        WEIGHTS["role"] = 1.0  # type: ignore[index]


def test_a_copy_of_the_idea_scores_exactly_the_hand_computed_value():
    bad = ImprovedPrompt(improved_prompt=IDEA, role="assistant", directive="blog", framework="", guardrails=())
    # role 0 (generic); directive: no verb, names 1 of the 4 key terms (blog, post, sqlite, beginners) → 0.5 ×
    # min(1, 0.25 / 0.5) = 0.25; framework 0; guardrails 0; coverage 1 (the copy names every term); length 0
    # (a copy); no placeholder 1.  0.20 × 0.25 + 0.15 × 1 + 0.10 × 1 = 0.30.
    assert criteria_scores(IDEA, bad) == {"role": 0.0, "directive": 0.25, "framework": 0.0, "guardrails": 0.0,
                                          "coverage": 1.0, "length": 0.0, "no_placeholder": 1.0}
    assert score_improvement(IDEA, bad) == pytest.approx(0.30)


def test_a_middling_output_scores_exactly_the_hand_computed_value():
    middling = with_(role="Copywriter", directive="Draft something about databases", framework="My own approach",
                     guardrails=("Be clear", "Keep the post under 900 words"))
    # role 0.6 (one specific word); directive 0.5 (a verb, none of the key terms); framework 0.4 (named, not a
    # known one); guardrails 0.5 (two of them) × 1/2 concrete = 0.25; coverage, length, no placeholder 1.
    # 0.15 × 0.6 + 0.20 × 0.5 + 0.10 × 0.4 + 0.20 × 0.25 + 0.15 + 0.10 + 0.10 = 0.63.
    assert criteria_scores(IDEA, middling) == pytest.approx(
        {"role": 0.6, "directive": 0.5, "framework": 0.4, "guardrails": 0.25, "coverage": 1.0, "length": 1.0,
         "no_placeholder": 1.0}
    )
    assert score_improvement(IDEA, middling) == pytest.approx(0.63)
    assert prompt_quality_metric(example_of(IDEA), prediction_of(middling), trace=[]) is False  # below 0.7
