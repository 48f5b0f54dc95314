"""Eight threads improve at once, each in its own `dspy.context` with its own model: no cross-talk.

This is how the dashboard runs (one Streamlit session per thread, programs shared), and why the app never
calls `dspy.configure`.
"""

from __future__ import annotations

import threading

import dspy
from dspy.utils import DummyLM

from pipeline.demonstrations import OUTPUT_FIELDS, read_demonstration_records
from pipeline.normalize import normalize_prediction
from pipeline.programs import build_few_shot, build_zero_shot

THREADS = 8


def test_eight_threads_each_get_their_own_models_answer():
    records = read_demonstration_records()
    programs = {"zero-shot": build_zero_shot(), "few-shot": build_few_shot(4)}  # shared, like the app's
    models = [DummyLM([{**{name: records[i][name] for name in OUTPUT_FIELDS}, "role": f"Role of thread {i}"}])
              for i in range(THREADS)]
    barrier = threading.Barrier(THREADS)
    results: dict[int, object] = {}
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            program = programs["few-shot" if i % 2 else "zero-shot"]
            barrier.wait(timeout=30)
            with dspy.context(lm=models[i]):
                prediction = program(original_idea=records[i]["original_idea"], context=records[i]["context"])
            results[i] = normalize_prediction(prediction)
        except BaseException as error:  # noqa: BLE001 - reported below: a thread's failure must fail the test
            errors.append(error)

    threads = [threading.Thread(target=work, args=(i,), name=f"improver-{i}") for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert not any(thread.is_alive() for thread in threads)
    for i in range(THREADS):
        assert results[i].role == f"Role of thread {i}"
        assert results[i].directive == records[i]["directive"]
        assert len(models[i].history) == 1  # each model answered exactly its own thread
        assert records[i]["original_idea"] in models[i].history[0]["messages"][-1]["content"]
    assert dspy.settings.lm is None  # nothing leaked into the global configuration
