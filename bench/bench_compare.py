"""Benchmark: a Compare experiment with concurrency 4 against the same experiment run sequentially.

    python bench/bench_compare.py [--ideas 30] [--latency-ms 200] [--concurrency 4]

The model is the fake OpenAI-compatible server from the tests (`tests/support/fake_openai.py`) on
127.0.0.1, answering every request after a 200 ms delay, so each call goes through the whole real path:
DSPy's LM over HTTP, parsing, scoring, saving to SQLite, recording the experiment run. Both experiments
(30 ideas × 2 backends = 60 calls each) run in the same process, one after the other, against fresh
databases; the ratio concurrent / sequential must be at most 1/3. Exit status 1 if it is not.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pipeline.evalsets import default_eval_set  # noqa: E402
from pipeline.experiments import ServiceImprover, run_experiment  # noqa: E402
from pipeline.lm import build_lm  # noqa: E402
from pipeline.programs import load_program  # noqa: E402
from store.sqlite.experiments import SQLiteExperimentRepository  # noqa: E402
from store.sqlite.migrations import migrate  # noqa: E402
from store.record import BackendType  # noqa: E402
from store.sqlite.repository import SQLitePromptRepository  # noqa: E402
from tests.support.fake_openai import FakeOpenAIServer, good_fields, hang, reply  # noqa: E402

TARGET_RATIO = 1 / 3


def _experiment(db_path: Path, items: list, concurrency: int, lm: object, programs: dict) -> tuple[float, object]:
    migrate(db_path)
    history = SQLitePromptRepository(db_path)
    improver = ServiceImprover(programs=programs, lm=lm, repo=history, model_version="openai/fake-model")
    try:
        start = time.perf_counter()
        result = run_experiment(SQLiteExperimentRepository(db_path), items=items, repeats=1, concurrency=concurrency,
                                improve_one=improver, **improver.versions)
        elapsed = time.perf_counter() - start
    finally:
        history.close()
    return elapsed, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ideas", type=int, default=30)
    parser.add_argument("--latency-ms", type=float, default=200.0)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()

    items = default_eval_set()[: args.ideas]
    programs = {b: load_program(b) for b in BackendType}
    answer = hang(args.latency_ms / 1000, then=reply(good_fields("Write a short guide to the topic")))
    with FakeOpenAIServer(default=answer) as server, tempfile.TemporaryDirectory() as tmp:
        lm = build_lm("openai/fake-model", api_base=server.base_url, max_retries=0, timeout_s=30, cache=False)
        _experiment(Path(tmp) / "warmup.db", items[:1], 1, lm, programs)  # imports and connection set-up
        sequential, seq_result = _experiment(Path(tmp) / "sequential.db", items, 1, lm, programs)
        concurrent, con_result = _experiment(Path(tmp) / "concurrent.db", items, args.concurrency, lm, programs)
    calls = len(items) * 2
    for label, result in (("sequential", seq_result), ("concurrent", con_result)):
        if result.failed:
            print(f"{label}: {result.failed} runs failed: {result.errors[:3]}", file=sys.stderr)
            return 1
    ratio = concurrent / sequential
    floor = calls * args.latency_ms / 1000
    print(f"experiment: {len(items)} ideas x 2 backends = {calls} calls, fake model latency {args.latency_ms:.0f} ms")
    print(f"sequential (concurrency 1): {sequential:6.2f} s  ({sequential / calls * 1000:5.0f} ms per call; "
          f"model time alone {floor:.1f} s)")
    print(f"concurrent (concurrency {args.concurrency}): {concurrent:6.2f} s  "
          f"({concurrent / calls * 1000:5.0f} ms per call)")
    print(f"ratio concurrent/sequential: {ratio:.3f} (target <= {TARGET_RATIO:.3f}; ideal {1 / args.concurrency:.3f})")
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
