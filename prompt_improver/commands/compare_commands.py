"""`prompt-improver compare`: run (or resume) a zero-shot vs few-shot experiment and print its summary.

The planned number of model calls goes to stderr before anything starts; progress goes to stderr only
on a terminal; the summary (or, with `--json`, one JSON object) goes to stdout. DSPy and the pipeline
are imported when the command runs, not when the CLI starts. The model's response cache is always off
for an experiment: cached answers would make latencies meaningless and repeats identical.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any, TextIO

from prompt_improver.settings import Settings, load_settings
from prompt_improver.terminal import json_text, printable

logger = logging.getLogger(__name__)

METRIC_LABELS = (("quality", "quality"), ("confidence", "confidence"), ("latency_ms", "latency (ms)"))


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `compare` to the `prompt-improver` parser."""
    compare = subparsers.add_parser(
        "compare",
        help="run the evaluation set through zero-shot and few-shot and compare them with paired statistics",
        description="Run every idea of an evaluation set through both backends (each run is a history record "
        "tagged with the experiment id), then print the verdict and, per metric, both means, the mean difference "
        "(few-shot minus zero-shot) with its 95%% bootstrap interval, the Wilcoxon p-value (Holm-adjusted), the "
        "rank-biserial effect size and wins/ties/losses. Failed runs are counted; --resume re-runs only them.",
    )
    compare.add_argument("--eval-set", type=Path, metavar="FILE",
                         help="JSONL ({\"idea\": ..., \"context\": ...} per line) or CSV with idea,context columns "
                              "(default: the shipped set of ideas)")
    compare.add_argument("--repeats", type=int, metavar="K", help="runs of each idea per backend (default 1)")
    compare.add_argument("--concurrency", type=int, metavar="N", help="model calls at once (default: LLM_CONCURRENCY)")
    compare.add_argument("--name", default="", metavar="NAME", help="a label for the experiment")
    compare.add_argument("--resume", metavar="EXPERIMENT_ID", help="run only the missing or failed runs of an experiment")
    compare.add_argument("--show", metavar="EXPERIMENT_ID", help="print an experiment's summary without running anything")
    compare.add_argument("--list", action="store_true", help="list the experiments, newest first")
    compare.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    compare.add_argument("--seed", type=int, default=0, metavar="S", help="bootstrap seed (default 0)")
    compare.add_argument("--db", type=Path, metavar="PATH", help="database file (default: SQLITE_DB_PATH)")
    compare.set_defaults(handler=run_compare)


def _usage_error(message: str) -> Exception:
    from prompt_improver.errors import UsageError

    return UsageError(message)


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {"llm_cache": False}  # never a cached answer in an experiment
    if args.db is not None:
        overrides.update(sqlite_db_path=args.db, database_url=None)  # an SQLite file wins over DATABASE_URL
    return load_settings(**overrides)


def _check_numbers(args: argparse.Namespace, settings: Settings) -> int:
    if args.repeats is not None and not 1 <= args.repeats <= 100:
        raise _usage_error(f"--repeats must be between 1 and 100, got {args.repeats}")
    concurrency = settings.llm_concurrency if args.concurrency is None else args.concurrency
    if not 1 <= concurrency <= 64:
        raise _usage_error(f"--concurrency must be between 1 and 64, got {concurrency}")
    return concurrency


def run_compare(args: argparse.Namespace) -> int:
    """Run, resume, show or list experiments; print the summary and the experiment id."""
    settings = _settings(args)
    concurrency = _check_numbers(args, settings)
    if args.resume and (args.eval_set or args.repeats):
        raise _usage_error("--resume uses the experiment's own evaluation set and repeats; drop --eval-set/--repeats")

    from prompt_improver.services import build_services

    services = build_services(settings)
    try:
        services.require_history()  # experiments are stored beside the history
        experiments = services.experiments
        if args.list:
            return _print_list(experiments, args.json)
        experiment_id = args.show or _run(args, concurrency, services)
    finally:
        services.close()

    from pipeline.experiment_results import summarize

    summary = summarize(experiments, experiment_id, seed=args.seed, judge_model=settings.judge_model)
    if args.json:
        print(json_text(summary.to_dict()))
    else:
        print(printable(format_summary(summary)))  # names and model errors come from outside
    return 0


def _run(args: argparse.Namespace, concurrency: int, services: Any) -> str:
    from pipeline.evalsets import default_eval_set, load_eval_file
    from pipeline.experiments import ServiceImprover, check_eval_set, pending_runs, run_experiment
    from pipeline.programs import load_program
    from store.experiments import ExperimentNotFound
    from store.record import BackendType

    settings, history, experiments = services.settings, services.repository, services.experiments
    items = None
    if args.resume:
        experiment = experiments.get(args.resume)
        if experiment is None:
            raise ExperimentNotFound(f"no experiment with id {args.resume!r} in {history.db_path}; "
                                     "`prompt-improver compare --list` shows them")
        calls = len(pending_runs(experiment, experiments.runs(experiment.id)))
        plan = f"resuming experiment {experiment.id}: {calls} of {experiment.planned} runs left = {calls} model calls"
    else:
        items = load_eval_file(args.eval_set) if args.eval_set else default_eval_set()
        repeats = args.repeats or 1
        calls = len(items) * repeats * 2
        plan = (f"{len(items)} ideas × {repeats} repeat{'s' if repeats != 1 else ''} × 2 backends = "
                f"{calls} model calls")
    from prompt_improver.commands.judge_step import build_judge, run_judge

    # The response cache is off (an experiment measures the model, not DSPy's cache).
    lm, judge = services.models.client(cache=False), build_judge(services.models)
    programs = {b: load_program(b, settings.dspy_program_dir, k=settings.dspy_fewshot_k) for b in BackendType}
    if items is not None:
        check_eval_set(items, programs[BackendType.FEW_SHOT][0])
    print(f"compare: {plan} (concurrency {concurrency}, model {settings.llm_model}, response cache off)",
          file=sys.stderr)

    improver = ServiceImprover(programs=programs, lm=lm, repo=history, model_version=settings.llm_model or "",
                               outbox=services.outbox, breaker=services.breaker)
    progress = _TerminalProgress(sys.stderr) if sys.stderr.isatty() else None
    try:
        result = run_experiment(
            experiments, items=items, repeats=None if args.resume else (args.repeats or 1), name=args.name,
            improve_one=improver, concurrency=concurrency, progress=progress, experiment_id=args.resume,
            **improver.versions,
        )
    except KeyboardInterrupt:
        latest = args.resume or _latest_id(experiments)
        if latest:
            print(f"\nexperiment {latest} interrupted; resume it with: prompt-improver compare --resume {latest}",
                  file=sys.stderr)
        raise
    finally:
        if progress:
            progress.close()
    run_judge(judge, settings.judge_model, experiments, result.experiment.id, concurrency)
    if result.failed:
        print(f"warning: {result.failed} of {result.attempted} runs failed (first: {result.errors[0]}); re-run only "
              f"them with: prompt-improver compare --resume {result.experiment.id}", file=sys.stderr)
    return result.experiment.id


def _latest_id(experiments: Any) -> str | None:
    latest = experiments.list_experiments(limit=1)
    return latest[0].id if latest else None


class _TerminalProgress:
    """`[ 12/76] 16%` rewritten in place on a terminal."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.shown = False

    def __call__(self, done: int, total: int) -> None:
        percent = 100 * done // total if total else 100
        self.stream.write(f"\r[{done:>{len(str(total))}}/{total}] {percent:3d}%")
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()


def _print_list(experiments: Any, as_json: bool) -> int:
    from store.timestamps import to_iso

    listed = experiments.list_experiments(limit=1_000)
    if as_json:
        print(json_text([
            {"experiment_id": e.id, "name": e.name, "created": to_iso(e.created), "status": e.status,
             "items": len(e.items), "repeats": e.repeats, "planned": e.planned, "succeeded": e.succeeded,
             "failed": e.failed, "model_version": e.model_version}
            for e in listed
        ]))
        return 0
    if not listed:
        print("no experiments yet; start one with: prompt-improver compare")
        return 0
    for e in listed:
        print(printable(f"{e.id}  {e.created:%Y-%m-%d %H:%M}  {e.status:<11} {e.succeeded}/{e.planned} ok, "
                        f"{e.failed} failed  {e.model_version or '-'}  {e.name}"))
    return 0


def _signed(value: float | None, digits: int) -> str:
    if value is None:
        return "–"
    # One or two more places while a non-zero value would print as "-0" or "+0" (an interval bound of
    # -0.3 ms must not look like zero, nor zero look negative).
    for places in range(digits, digits + 3):
        text = f"{value:+.{places}f}"
        if float(text) != 0 or value == 0:
            return text
    return text


def _plain(value: float | None, digits: int) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _p(value: float | None) -> str:
    if value is None:
        return "–"
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def format_summary(summary: Any) -> str:
    """The human-readable summary: facts, verdict, warning, one table row per metric, the experiment id."""
    data = summary.to_dict()
    lines = [
        f"Experiment {data['experiment_id']}{' “' + data['name'] + '”' if data['name'] else ''}: {data['status']} — "
        f"{data['succeeded']} of {data['planned']} runs succeeded, {data['failed']} failed "
        f"(zero-shot {data['failed_by_backend']['zero-shot']}, few-shot {data['failed_by_backend']['few-shot']})",
        f"Model {data['model_version'] or '–'} · programs zero-shot {data['program_version_zero_shot'] or '–'}, "
        f"few-shot {data['program_version_few_shot'] or '–'} · {data['items']} ideas × {data['repeats']} repeat(s)",
        "",
        f"Verdict: {data['verdict']}",
    ]
    if data.get("warning"):
        lines.append(f"Warning: {data['warning']}")
    lines += ["", f"{'metric':<13}{'zero-shot':>10}{'few-shot':>10}  {'difference [95% CI]':<28}{'p':>7}"
              f"{'p (Holm)':>10}{'effect':>8}  W/T/L"]
    for metric, label in METRIC_LABELS:
        m = data["metrics"].get(metric, {})
        digits = 0 if metric == "latency_ms" else 3
        interval = (f"{_signed(m.get('mean_difference'), digits)} "
                    f"[{_signed(m.get('ci_low'), digits)}, {_signed(m.get('ci_high'), digits)}]")
        lines.append(
            f"{label:<13}{_plain(m.get('mean_zero_shot'), digits):>10}{_plain(m.get('mean_few_shot'), digits):>10}  "
            f"{interval:<28}{_p(m.get('p_value')):>7}{_p(m.get('p_value_adjusted')):>10}"
            f"{_signed(m.get('effect_size'), 2):>8}  {m.get('wins', 0)}/{m.get('ties', 0)}/{m.get('losses', 0)}"
        )
    from prompt_improver.commands.judge_step import format_judge

    lines += ["", "Differences are few-shot minus zero-shot; W/T/L counts ideas where few-shot won, tied, lost.", "",
              *format_judge(data.get("judge")), "",
              f"Experiment id: {data['experiment_id']}"]
    if data["status"] != "completed":
        lines.append(f"Resume with: prompt-improver compare --resume {data['experiment_id']}")
    return "\n".join(lines)
