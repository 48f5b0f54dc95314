"""Evaluation sets: the default set, user files (JSONL/CSV) and their errors, history samples, demonstrations."""

from __future__ import annotations

import re

import dspy
import pytest

from pipeline.demonstrations import load_demonstrations
from pipeline.evalsets import (
    EvalItem,
    InvalidEvalSet,
    check_against_demonstrations,
    default_eval_set,
    eval_set_hash,
    load_eval_file,
    parse_csv,
    parse_jsonl,
    sample_from_history,
)
from store.memory import InMemoryPromptRepository
from tests.support.builders import make_record


def test_the_default_set_has_at_least_30_distinct_ideas_with_context():
    items = default_eval_set()
    assert len(items) >= 30
    assert len({item.idea.casefold() for item in items}) == len(items)
    assert sum(bool(item.context) for item in items) >= 25


def test_the_default_set_shares_no_idea_with_the_few_shot_demonstrations():
    check_against_demonstrations(default_eval_set(), load_demonstrations())  # raises on a clash


def test_an_idea_equal_to_a_demonstration_ignoring_case_and_whitespace_is_refused_by_name():
    demonstrations = [dspy.Example(original_idea="Write a blog post about SQLite", context="")]
    items = [EvalItem("Plan a garden for a shady yard"), EvalItem("  write a BLOG post   about sqlite ")]
    with pytest.raises(InvalidEvalSet, match="write a BLOG post   about sqlite") as caught:
        check_against_demonstrations(items, demonstrations)
    assert "Plan a garden" not in str(caught.value)


def test_jsonl_file_is_loaded_with_optional_context(tmp_path):
    path = tmp_path / "ideas.jsonl"
    path.write_text(
        '{"idea": "Plan a garden for a shady yard", "context": "zone 7"}\n\n'
        '{"idea": "Write a haiku about autumn rain"}\n',
        encoding="utf-8",
    )
    assert load_eval_file(path) == [
        EvalItem("Plan a garden for a shady yard", "zone 7"),
        EvalItem("Write a haiku about autumn rain", ""),
    ]


def test_csv_file_is_loaded_by_its_header_names(tmp_path):
    path = tmp_path / "ideas.csv"
    path.write_text('Context,Idea\n"for kids, age 8",Explain photosynthesis simply\n,Draft a budget memo\n', encoding="utf-8")
    assert load_eval_file(path) == [
        EvalItem("Explain photosynthesis simply", "for kids, age 8"),
        EvalItem("Draft a budget memo", ""),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"idea": "Plan a garden for a shady yard"}\n{"idea": \n', "line 2 is not valid JSON"),
        ('{"idea": "Plan a garden for a shady yard"}\n["a list"]\n', "line 2 must be an object"),
        ('{"context": "no idea here"}\n', "line 1 must be an object"),
        ('{"idea": "hi"}\n', "line 1: idea needs at least 5 non-blank characters"),
        ('{"idea": 42}\n', "line 1: 'idea' must be text"),
        ("\n\n", "holds no ideas"),
        ('{"idea": "Plan a garden"}\n{"idea": "plan a  GARDEN"}\n', "line 2 repeats the idea of line 1"),
    ],
)
def test_bad_jsonl_names_the_line_and_the_problem(text, message):
    with pytest.raises(InvalidEvalSet, match=message):
        parse_jsonl(text, "ideas.jsonl")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is empty"),
        ("prompt,context\nWrite a haiku about rain,\n", r"no 'idea' column \(found: prompt, context\)"),
        ("idea,context\nWrite a haiku about rain,\nok,\n", "row 3: idea needs at least 5"),
        ("idea,context\n", "holds no ideas"),
    ],
)
def test_bad_csv_names_the_row_and_the_problem(text, message):
    with pytest.raises(InvalidEvalSet, match=message):
        parse_csv(text, "ideas.csv")


def test_unknown_extension_and_missing_file_are_clear_errors(tmp_path):
    (tmp_path / "ideas.txt").write_text("Plan a garden\n", encoding="utf-8")
    with pytest.raises(InvalidEvalSet, match="use .jsonl or .csv"):
        load_eval_file(tmp_path / "ideas.txt")
    with pytest.raises(InvalidEvalSet, match="cannot read"):
        load_eval_file(tmp_path / "missing.jsonl")


def test_hash_is_stable_and_changes_with_order_idea_or_context():
    items = [EvalItem("Plan a garden for a shady yard", "zone 7"), EvalItem("Write a haiku about rain")]
    assert eval_set_hash(items) == eval_set_hash(list(items))
    assert re.fullmatch("[0-9a-f]{16}", eval_set_hash(items))
    assert eval_set_hash(items) != eval_set_hash(items[::-1])
    assert eval_set_hash(items) != eval_set_hash([EvalItem("Plan a garden for a shady yard", "zone 8"), items[1]])


def test_history_sample_is_seeded_distinct_and_skips_experiment_runs():
    repo = InMemoryPromptRepository()
    for number in range(20):
        repo.save(make_record(original_idea=f"Idea number {number} for a blog post"))
    repo.save(make_record(original_idea="IDEA number 3 for a blog  post"))  # same idea, other spelling
    repo.save(make_record(original_idea="An idea from an experiment run", experiment_id="e1"))
    first = sample_from_history(repo, 8, seed=7)
    assert first == sample_from_history(repo, 8, seed=7)
    assert first != sample_from_history(repo, 8, seed=8)
    assert len({item.idea.casefold().replace(" ", "") for item in first}) == 8
    assert all("experiment" not in item.idea for item in sample_from_history(repo, 100, seed=1))
    assert len(sample_from_history(repo, 100, seed=1)) == 20


def test_history_sample_of_an_empty_history_says_what_to_do():
    with pytest.raises(InvalidEvalSet, match="improve a few prompts first"):
        sample_from_history(InMemoryPromptRepository(), 5)
