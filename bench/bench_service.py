"""Benchmark: what the improve service costs beyond the model call.

With a model that answers instantly (DSPy's DummyLM), one `improve()` call is all overhead: DSPy formatting
the prompt and parsing the answer, our normalising and scoring, and saving to a real SQLite file (WAL,
fsync as configured by the app) — plus the outbox/breaker checks. It is compared with the bare module
call (`program(...)` inside `dspy.context`, formatting and parsing only) measured in the same run, so the
ratio holds on any machine.

    python bench/bench_service.py [--calls 200] [--warmup 20]

Target: median service overhead <= 15 ms per call.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

TARGET_MEDIAN_MS = 15.0


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def _answer(n: int) -> dict:
    return {
        "reasoning": "The idea needs an audience, a format and checks; CO-STAR covers them.",
        "improved_prompt": (
            f"You are a senior technical writer. Write release notes for version {n} of the mobile app for "
            "end users. Steps: 1. List the new features. 2. Explain each in one sentence of user benefit. "
            "3. Mention fixed bugs briefly. Format: Markdown, at most 300 words, headings per section."
        ),
        "role": "Senior technical writer for consumer mobile apps",
        "directive": f"Write release notes for version {n} of the mobile app.",
        "framework": "CO-STAR",
        "guardrails": ["At most 300 words", "No internal ticket numbers", "Plain language", "No unreleased features"],
        "confidence": 0.8,
    }


def run(calls: int, warmup: int) -> int:
    """Measure both backends; return 0 when every median overhead meets the target."""
    import dspy
    from dspy.utils.dummies import DummyLM

    from pipeline.breaker import CircuitBreaker
    from pipeline.outbox import Outbox
    from pipeline.programs import load_program
    from pipeline.service import improve
    from store.sqlite.migrations import migrate
    from store.record import BackendType
    from store.sqlite.repository import SQLitePromptRepository

    ok = True
    print(f"{calls} calls per measurement after {warmup} warm-up calls; model: DummyLM (answers instantly)")
    print(f"{'backend':<10} {'bare module call':>27} {'service improve()':>27} {'ratio':>7} {'difference of medians':>22}")
    with tempfile.TemporaryDirectory() as directory:
        for backend in (BackendType.ZERO_SHOT, BackendType.FEW_SHOT):
            db = Path(directory) / f"{backend.value}.db"
            migrate(db)
            repo = SQLitePromptRepository(db)
            outbox = Outbox(db.with_name(db.name + ".outbox.jsonl"))
            breaker = CircuitBreaker()
            program, version = load_program(backend)
            total = warmup + calls
            lm = DummyLM([_answer(n) for n in range(2 * total)])
            bare: list[float] = []
            service: list[float] = []
            for n in range(total):
                idea = f"Write release notes for version {n} of the mobile app"
                # Interleaved, so drift (CPU frequency, other processes) hits both measurements alike.
                start = time.perf_counter()
                with dspy.context(lm=lm):
                    program(original_idea=idea, context="")
                bare_ms = (time.perf_counter() - start) * 1000
                start = time.perf_counter()
                outcome = improve(
                    idea, "", backend, program=program, program_version=version, lm=lm, repo=repo,
                    model_version="dummy", outbox=outbox, breaker=breaker,
                )
                service_ms = (time.perf_counter() - start) * 1000
                if not outcome.saved:
                    print(f"error: a record was not saved: {outcome.persistence_error}", file=sys.stderr)
                    return 2
                if n >= warmup:
                    bare.append(bare_ms)
                    service.append(service_ms)
            repo.close()
            bare_median, service_median = statistics.median(bare), statistics.median(service)
            print(
                f"{backend.value:<10} "
                f"{f'median {bare_median:.2f} p95 {_percentile(bare, 0.95):.2f} ms':>27} "
                f"{f'median {service_median:.2f} p95 {_percentile(service, 0.95):.2f} ms':>27} "
                f"{service_median / bare_median:>6.2f}x "
                f"{f'{service_median - bare_median:.2f} ms':>22}"
            )
            ok = ok and service_median <= TARGET_MEDIAN_MS
    print(f"target: median service overhead <= {TARGET_MEDIAN_MS:.0f} ms per call: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args(argv)
    return run(args.calls, args.warmup)


if __name__ == "__main__":
    sys.exit(main())
