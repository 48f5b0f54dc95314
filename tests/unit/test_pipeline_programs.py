"""Zero-shot and few-shot programs with DSPy's DummyLM: fields, demonstrations, versions, save and load."""

from __future__ import annotations

import json

import dspy
import pytest
from dspy.utils import DummyLM
from dspy.utils.exceptions import AdapterParseError

from pipeline.demonstrations import OUTPUT_FIELDS, read_demonstration_records
from pipeline.errors import ImprovementFailed
from pipeline.metrics import score_improvement
from pipeline.normalize import normalize_prediction, translate_model_error
from pipeline.programs import (
    FEW_SHOT_FILE,
    ProgramFileError,
    build_few_shot,
    build_zero_shot,
    compile_few_shot,
    load_program,
    program_version,
    read_program,
    save_program,
)

RECORDS = read_demonstration_records()
IDEA = "Write a blog post about SQLite for beginners"


def answer_from(record: dict, **overrides) -> dict:
    """A model answer with every output field, taken from a demonstration."""
    return {**{name: record[name] for name in OUTPUT_FIELDS}, **overrides}


def run(program, lm, idea=IDEA, context=""):
    with dspy.context(lm=lm):
        return program(original_idea=idea, context=context)


@pytest.mark.parametrize("build", [build_zero_shot, build_few_shot], ids=["zero-shot", "few-shot"])
def test_program_produces_every_field_and_its_reasoning(build):
    prediction = run(build(), DummyLM([answer_from(RECORDS[5])]))
    improved = normalize_prediction(prediction)
    assert improved.role == RECORDS[5]["role"]
    assert improved.framework == RECORDS[5]["framework"]
    assert improved.guardrails == tuple(RECORDS[5]["guardrails"])
    assert improved.confidence == RECORDS[5]["confidence"]
    assert improved.reasoning == RECORDS[5]["reasoning"]


def test_zero_shot_sends_no_demonstrations_and_few_shot_sends_k():
    zero_lm, few_lm = DummyLM([answer_from(RECORDS[0])]), DummyLM([answer_from(RECORDS[0])])
    run(build_zero_shot(), zero_lm)
    run(build_few_shot(k=3), few_lm)
    zero_messages, few_messages = zero_lm.history[-1]["messages"], few_lm.history[-1]["messages"]
    assert len(zero_messages) == 2  # system + the idea
    assert len(few_messages) == 2 + 2 * 3  # each demonstration is a user/assistant pair
    sent = json.dumps(few_messages)
    assert all(record["original_idea"] in sent for record in RECORDS[:3])
    assert RECORDS[3]["original_idea"] not in sent


def test_few_shot_program_carries_k_demonstrations_in_file_order():
    program = build_few_shot(k=4)
    demos = program.improve.predict.demos
    assert [demo.original_idea for demo in demos] == [record["original_idea"] for record in RECORDS[:4]]


def test_few_shot_version_differs_from_zero_shot_and_is_stable_across_builds():
    zero, few = program_version(build_zero_shot()), program_version(build_few_shot(4))
    assert zero != few
    assert program_version(build_zero_shot()) == zero
    assert program_version(build_few_shot(4)) == few
    assert program_version(build_few_shot(2)) != few
    assert len(few) == 12 and int(few, 16) >= 0


def test_running_a_program_does_not_change_its_version():
    program = build_few_shot(4)
    before = program_version(program)
    run(program, DummyLM([answer_from(RECORDS[1])]))
    assert program_version(program) == before


def test_loose_model_answers_still_parse_and_normalise():
    loose = answer_from(RECORDS[2], confidence="85%", guardrails="- Cite sources\n- Stay under 500 words\n- No jargon")
    improved = normalize_prediction(run(build_zero_shot(), DummyLM([loose])))
    assert improved.confidence == 0.85
    assert improved.guardrails == ("Cite sources", "Stay under 500 words", "No jargon")


def test_a_word_for_confidence_becomes_none_rather_than_a_failure():
    improved = normalize_prediction(run(build_zero_shot(), DummyLM([answer_from(RECORDS[2], confidence="high")])))
    assert improved.confidence is None


def test_prose_instead_of_fields_becomes_improvement_failed_with_an_excerpt():
    prose = {"answer": "Sure! A better prompt would be to ask for a friendly SQLite tutorial."}
    with pytest.raises(AdapterParseError) as caught:  # after DSPy's JSON-adapter retry
        run(build_zero_shot(), DummyLM([prose, prose]))
    failed = translate_model_error(caught.value)
    assert isinstance(failed, ImprovementFailed)
    assert "Sure! A better prompt" in failed.excerpt


def test_save_and_load_round_trip_keeps_the_version(tmp_path):
    program = build_few_shot(3)
    path = tmp_path / "programs" / FEW_SHOT_FILE
    version = save_program(program, path)
    assert version == program_version(program)
    assert json.loads(path.read_text())["metadata"]["program_version"] == version
    loaded = read_program(path)
    assert program_version(loaded) == version
    assert len(loaded.improve.predict.demos) == 3
    lm = DummyLM([answer_from(RECORDS[7])])
    assert normalize_prediction(run(loaded, lm)).role == RECORDS[7]["role"]
    assert len(lm.history[-1]["messages"]) == 2 + 2 * 3  # the loaded demonstrations are sent


def test_a_hand_edited_saved_program_gets_a_new_version_not_the_one_written_in_its_metadata(tmp_path):
    # The version is a hash of the state actually loaded, so an edited demonstration cannot pass for the
    # program that produced earlier records.
    path = tmp_path / FEW_SHOT_FILE
    version = save_program(build_few_shot(2), path)
    state = json.loads(path.read_text())
    state["improve.predict"]["demos"][0]["role"] = "A role edited by hand"
    path.write_text(json.dumps(state))

    edited = read_program(path)

    assert edited.improve.predict.demos[0]["role"] == "A role edited by hand"
    assert json.loads(path.read_text())["metadata"]["program_version"] == version
    assert program_version(edited) != version
    assert load_program("few-shot", tmp_path)[1] == program_version(edited)


def test_saved_program_is_readable_by_dspy_itself(tmp_path):
    path = tmp_path / FEW_SHOT_FILE
    version = save_program(build_few_shot(2), path)
    loaded = build_zero_shot()
    loaded.load(path)
    assert program_version(loaded) == version


def test_load_program_prefers_a_saved_few_shot_program(tmp_path):
    saved_version = save_program(build_few_shot(2), tmp_path / FEW_SHOT_FILE)
    program, version = load_program("few-shot", tmp_path, k=4)
    assert version == saved_version == program_version(program)
    assert len(program.improve.predict.demos) == 2


def test_load_program_falls_back_to_the_built_in_demonstrations(tmp_path):
    program, version = load_program("few-shot", tmp_path / "missing", k=4)
    assert version == program_version(build_few_shot(4))
    assert load_program("few-shot", None, k=4)[1] == version


def test_load_program_for_zero_shot_ignores_saved_programs(tmp_path):
    save_program(build_few_shot(2), tmp_path / FEW_SHOT_FILE)
    program, version = load_program("zero-shot", tmp_path)
    assert version == program_version(build_zero_shot())
    assert program.improve.predict.demos == []


@pytest.mark.parametrize(
    ("content", "problem"),
    [("{not json", "is not valid JSON"), ("[1, 2]", "is not a PromptImprover's state"),
     ('{"other.predict": {}}', "is not a PromptImprover's state"),
     ('{"improve.predict": {"demos": 5}}', "cannot be loaded")],
)
def test_corrupt_saved_program_names_the_file_and_the_fix(tmp_path, content, problem):
    path = tmp_path / FEW_SHOT_FILE
    path.write_text(content)
    with pytest.raises(ProgramFileError, match=problem) as caught:
        load_program("few-shot", tmp_path)
    assert str(path) in str(caught.value)
    assert "compile-fewshot" in str(caught.value)


def test_saved_program_with_a_broken_demonstration_is_refused(tmp_path):
    path = tmp_path / FEW_SHOT_FILE
    save_program(build_few_shot(2), path)
    state = json.loads(path.read_text())
    state["improve.predict"]["demos"][1] = {"unrelated": "field"}
    path.write_text(json.dumps(state))
    with pytest.raises(ProgramFileError, match=r"demonstration \(#1\) without original_idea"):
        load_program("few-shot", tmp_path)


def test_unknown_backend_and_bad_k_are_refused():
    with pytest.raises(ValueError, match="zero-shot' or 'few-shot"):
        load_program("many-shot")
    with pytest.raises(ValueError, match="k must be a positive integer"):
        build_few_shot(0)


def test_compile_few_shot_refuses_bad_sizes_before_calling_the_model():
    lm = DummyLM([])
    with pytest.raises(ValueError, match="k must be a positive integer"):
        compile_few_shot(lm, k=0)
    with pytest.raises(ValueError, match="max_bootstrapped_demos must be a non-negative integer"):
        compile_few_shot(lm, k=2, max_bootstrapped_demos=-1)
    assert lm.history == []


def test_compile_few_shot_with_a_small_k_keeps_k_demonstrations():
    trainset = __import__("pipeline.demonstrations", fromlist=["x"]).load_demonstrations()[:4]
    lm = DummyLM([answer_from(record) for record in RECORDS[:4]])
    compiled = compile_few_shot(lm, k=2, trainset=trainset)  # max_bootstrapped_demos defaults to 4
    assert len(compiled.improve.predict.demos) == 2


def test_compile_few_shot_bootstraps_good_answers_from_the_model():
    trainset = __import__("pipeline.demonstrations", fromlist=["x"]).load_demonstrations()[:6]
    # The teacher answers each training idea in order; every answer is the demonstration's own (a good one).
    lm = DummyLM([answer_from(record, confidence=0.7) for record in RECORDS[:6]])
    compiled = compile_few_shot(lm, k=4, max_bootstrapped_demos=2, trainset=trainset)
    demos = compiled.improve.predict.demos
    assert len(demos) == 4
    assert sum(1 for demo in demos if demo.get("augmented")) == 2
    assert program_version(compiled) not in {program_version(build_few_shot(4)), program_version(build_zero_shot())}
    for demo in demos:
        assert score_improvement(demo.original_idea, normalize_prediction(demo)) >= 0.7
