"""Benchmark: a real local model with and without structured output (same run, same ideas).

SmolLM2-135M on llama.cpp's server (`../shared/llm/serve`), no grammar given to the server: each idea runs
through both backends twice, once with the bounded JSON schema (`response_format`, what the app sends
first) and once with DSPy's chat layout (what it sent before). Reported per backend and mode: how many runs
gave a usable answer (a saved record) and the median latency; the ratio compares the schema's success rate
with the chat layout's, measured in the same run on the same machine.

    python bench/bench_real_model.py [--ideas 3] [--max-tokens 2000] [--timeout 90] [--api-base URL]

Without --api-base it starts the server on a free port and stops it at the end.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

IDEAS = (
    "Write a short welcome email for new users of our notes app",
    "Summarise a customer support ticket for the engineering team",
    "Plan a one-week study schedule for learning SQL basics",
    "Draft interview questions for a junior data analyst",
    "Explain our refund policy to a frustrated customer",
)


def _run(client, backend: str, idea: str) -> tuple[bool, float, str]:
    from pipeline.errors import PipelineError
    from pipeline.programs import load_program
    from pipeline.service import improve
    from store.memory import InMemoryPromptRepository

    program, version = load_program(backend, None, k=4)
    start = time.perf_counter()
    try:
        outcome = improve(idea, program=program, program_version=version, lm=client,
                          repo=InMemoryPromptRepository(), model_version="openai/smollm2", backend=backend)
        ok, note = outcome.saved, ""
    except PipelineError as error:
        ok, note = False, str(error)[:110]
    return ok, time.perf_counter() - start, note


def _client(api_base: str, mode, args):
    from pipeline.model_client import OutputModes, build_model_client
    from pipeline.structured_output import OUTPUT_MODES

    modes = OutputModes()
    client = build_model_client("openai/smollm2", api_base=api_base, timeout_s=args.timeout,
                                total_timeout_s=args.timeout, max_retries=0, max_tokens=args.max_tokens, modes=modes)
    for refused in OUTPUT_MODES[: OUTPUT_MODES.index(mode)]:
        modes.refuse(client.key, refused)
    return client


def bench(api_base: str, args: argparse.Namespace) -> None:
    """Run every idea × backend × mode once and print the table."""
    from pipeline.structured_output import OutputMode

    modes = (OutputMode.JSON_SCHEMA, OutputMode.CHAT)
    results: dict[tuple[str, OutputMode], list[tuple[bool, float, str]]] = {}
    for idea in IDEAS[: args.ideas]:
        for backend in ("zero-shot", "few-shot"):
            for mode in modes:  # interleaved, so a change in machine load hits both modes alike
                outcome = _run(_client(api_base, mode, args), backend, idea)
                results.setdefault((backend, mode), []).append(outcome)
                flag = "ok  " if outcome[0] else "FAIL"
                print(f"  {flag} {backend:<9} {mode.value:<11} {outcome[1]:6.1f} s  {outcome[2]}", flush=True)
    print()
    print(f"{'backend':<10} {'output mode':<12} {'parsed':>8} {'rate':>6} {'median s':>9}")
    for (backend, mode), runs in results.items():
        parsed = sum(ok for ok, _, _ in runs)
        median = statistics.median(seconds for _, seconds, _ in runs)
        print(f"{backend:<10} {mode.value:<12} {parsed:>4}/{len(runs):<3} {parsed / len(runs):>6.0%} {median:>9.1f}")
    for backend in ("zero-shot", "few-shot"):
        schema = sum(ok for ok, _, _ in results[(backend, OutputMode.JSON_SCHEMA)])
        chat = sum(ok for ok, _, _ in results[(backend, OutputMode.CHAT)])
        print(f"{backend}: parsed with the schema {schema}, with the chat layout {chat} (same ideas, same run)")


def main() -> int:
    """Parse the arguments, start the model if needed, run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ideas", type=int, default=3, help="ideas to run (each through 2 backends x 2 modes)")
    parser.add_argument("--max-tokens", type=int, default=2000, help="LLM_MAX_TOKENS (default 2000, the app's)")
    parser.add_argument("--timeout", type=float, default=90, help="seconds per call (LLM_TIMEOUT_S)")
    parser.add_argument("--api-base", help="a running server's base URL (default: start ../shared/llm/serve)")
    args = parser.parse_args()
    print(f"{args.ideas} ideas x 2 backends x 2 output modes, max_tokens={args.max_tokens}, timeout={args.timeout:g} s")
    if args.api_base:
        bench(args.api_base, args)
        return 0
    from tests.support.local_model import local_model, missing_reason, serve_script

    script = serve_script()
    if reason := missing_reason(script):
        print(reason, file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as folder, local_model(script, Path(folder) / "server.log") as url:
        bench(url, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
