"""The pairwise judge's part of `prompt-improver compare`: asking it (when JUDGE_MODEL is set) and printing it.

After the experiment's runs, every complete pair is put to the judge in both orders; verdicts are stored,
so `compare --resume ID` asks only what is missing (also for an experiment finished before a judge was
configured). Plans and warnings go to stderr, like the runs'.
"""

from __future__ import annotations

import sys
from typing import Any

from prompt_improver.models import ModelFactory


def build_judge(models: ModelFactory) -> Any | None:
    """The judge (`ServiceJudge`) JUDGE_MODEL describes, or None when it is unset. Built before the runs, so a
    judge that cannot be used stops the command before any model call.

    Raises:
        ModelNotConfigured: JUDGE_MODEL cannot be used (the message names it).
    """
    lm = models.judge()
    if lm is None:
        return None
    from pipeline.judge import ServiceJudge

    return ServiceJudge(lm=lm)


def run_judge(judge: Any | None, judge_model: str | None, experiments: Any, experiment_id: str,
              concurrency: int) -> None:
    """Ask `judge` what it has not answered yet about the experiment (nothing when `judge` is None)."""
    if judge is None or not judge_model:
        return
    from pipeline.experiment_results import paired_results
    from pipeline.judging import judge_experiment, pending_questions
    from prompt_improver.commands.compare_commands import _TerminalProgress

    rows = paired_results(experiments, experiment_id)
    calls = len(pending_questions(rows, experiments.verdicts(experiment_id), judge_model))
    pairs = sum(row.complete for row in rows)
    print(f"compare: judge {judge_model}: {pairs} pairs × 2 orders, {calls} judge calls "
          f"({2 * pairs - calls} answered before)", file=sys.stderr)
    progress = _TerminalProgress(sys.stderr) if sys.stderr.isatty() else None
    try:
        result = judge_experiment(experiments, experiment_id, judge_one=judge, judge_model=judge_model,
                                  concurrency=concurrency, progress=progress)
    finally:
        if progress:
            progress.close()
    if result.failed:
        print(f"warning: {result.failed} of {result.attempted} judge calls failed (first: {result.errors[0]}); ask "
              f"only them again with: prompt-improver compare --resume {experiment_id}", file=sys.stderr)


def _rate(value: float | None, low: float | None, high: float | None, count: str) -> str:
    if value is None:
        return f"– ({count})"
    interval = f" [{low:.2f}, {high:.2f}]" if low is not None and high is not None else ""
    return f"{value:.2f}{interval} ({count})"


def format_judge(judge: dict[str, Any] | None) -> list[str]:
    """The summary's judge lines: win rate, consistency, agreement, and what was left out; a hint when None."""
    if judge is None:
        return ["Judge: none (set JUDGE_MODEL to have a second model judge every pair in both orders)"]
    consistency = _rate(judge["consistency"], judge["consistency_low"], judge["consistency_high"],
                        f"{judge['consistent_pairs']} of {judge['judged_pairs']} pairs")
    agreement = _rate(judge["agreement"], judge["agreement_low"], judge["agreement_high"],
                      f"{judge['agreeing_items']} of {judge['rubric_items']} ideas")
    lines = [f"Judge {judge['model']} (each pair asked in both orders; a win needs both to agree, else a tie):",
             f"  {judge['summary']}",
             f"  position consistency {consistency} · agreement with the rubric {agreement}"]
    if judge["not_counted"]:
        lines.append(f"  not counted: {judge['not_counted']}")
    return lines
