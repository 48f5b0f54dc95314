"""Benchmark: `prompt-improver score` on 10,000 JSON lines, end to end (a fresh process: start-up,
imports, building the metric, parsing, scoring, printing JSON).

The lines cycle through the quality fixtures (good improvements, hand-made degenerate ones, real small-model
answers), so every check runs on realistic text. The baseline, measured in the same run, is a fresh Python
process that only parses the same lines with `json.loads`: the ratio says what scoring costs on top of
reading the file, on any machine.

    python bench/bench_score.py [--lines 10000] [--repeats 3]

Target: the command takes < 10 s for 10,000 lines (median of the repeats).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "quality"
TARGET_S = 10.0
BASELINE = "import json, sys\nfor line in open(sys.argv[1], encoding='utf-8'):\n    json.loads(line)\n"


def write_lines(path: Path, count: int) -> None:
    """`count` lines cycling through every fixture improvement."""
    items = [line for name in ("good.jsonl", "degenerate.jsonl", "model_answers.jsonl")
             for line in (FIXTURES / name).read_text(encoding="utf-8").splitlines() if line.strip()]
    with path.open("w", encoding="utf-8") as out:
        for n in range(count):
            out.write(json.dumps(json.loads(items[n % len(items)])) + "\n")


def timed(command: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one run of `command`; CPU time does not grow when other work shares
    the machine, so it is printed too."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed: {done.stderr.strip()}")
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "improvements.jsonl"
        write_lines(path, args.lines)
        score = [sys.executable, "-m", "prompt_improver.cli", "score", str(path), "--json"]
        baseline = [sys.executable, "-c", BASELINE, str(path)]
        scores, bases = [], []
        for _ in range(args.repeats):
            bases.append(timed(baseline))
            scores.append(timed(score))
    score_s, base_s = (statistics.median(wall for wall, _ in runs) for runs in (scores, bases))
    score_cpu, base_cpu = (statistics.median(cpu for _, cpu in runs) for runs in (scores, bases))
    print(f"lines: {args.lines:,}; load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"baseline (fresh python, json.loads every line): median {base_s:.2f} s wall, {base_cpu:.2f} s CPU "
          f"of {args.repeats}")
    print(f"prompt-improver score --json:                   median {score_s:.2f} s wall, {score_cpu:.2f} s CPU "
          f"({score_s / args.lines * 1e3:.3f} ms per line)")
    print(f"ratio score / baseline: {score_s / base_s:.1f}x wall, {score_cpu / base_cpu:.1f}x CPU")
    verdict = "meets" if score_s < TARGET_S else "MISSES"
    print(f"target < {TARGET_S:.0f} s for 10,000 lines: {verdict}")
    return 0 if score_s < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
