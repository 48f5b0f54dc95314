"""Asking the pairwise judge about every pair of an experiment, in both orders, cached and resumable.

    judge = ServiceJudge(lm=judge_lm)
    result = judge_experiment(experiments, experiment_id, judge_one=judge, judge_model="openai/gpt-4o",
                              concurrency=4, progress=print)

Each complete pair (both backends produced a record) is asked twice: with zero-shot shown as A and with
few-shot shown as A. Every answer is stored as a `JudgeVerdict` keyed by (pair, order, judge model) and
naming the two records judged, so running it again asks only what has no usable verdict yet: questions
never asked, and calls that failed. An answer the judge gave but that is not A, B or tie is kept (it is
the judge's answer; `pipeline.judge_summary` counts it as unparsed) and not asked again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from pipeline.errors import ModelNotConfigured, PipelineError
from pipeline.experiment_results import PairedRow, paired_results
from pipeline.judge_summary import ORDERS, pair_verdicts
from pipeline.pool import run_bounded
from store.errors import InvalidRecord, RepositoryError
from store.experiments import ExperimentRepository
from store.judge_verdicts import JudgeVerdict
from store.record import BackendType, PromptHistory

logger = logging.getLogger(__name__)

JudgeOne = Callable[[str, str, PromptHistory, PromptHistory], object]
Progress = Callable[[int, int], None]
Question = tuple[PairedRow, BackendType]


@dataclass(frozen=True, slots=True)
class JudgingResult:
    """What one call of `judge_experiment` did.

    Attributes:
        judge_model: the judge asked.
        planned: questions for the experiment's complete pairs (two per pair).
        attempted: questions asked in this call; `answered`, `unparsed` and `failed` split them.
        cached: questions that already had a usable verdict (not asked again).
        errors: the failed calls' messages.
    """

    judge_model: str
    planned: int
    attempted: int
    answered: int
    unparsed: int
    failed: int
    cached: int
    errors: tuple[str, ...] = ()


def pending_questions(rows: list[PairedRow], verdicts: list[JudgeVerdict], judge_model: str) -> list[Question]:
    """The (pair, backend shown as A) questions without a usable verdict from this judge model, in item order."""
    pairs = {(p.item_index, p.repeat): p for p in pair_verdicts(rows, verdicts, judge_model)}
    questions = []
    for row in rows:
        pair = pairs.get((row.item_index, row.repeat))
        if pair is None:
            continue  # not a complete pair: nothing to judge yet
        for first, verdict in zip(ORDERS, pair.verdicts):
            if verdict is None or verdict.status == "failed":
                questions.append((row, first))
    return questions


def _ask(experiment_repo: ExperimentRepository, experiment_id: str, judge_one: JudgeOne, judge_model: str,
         question: Question) -> JudgeVerdict:
    row, first = question
    zero, few = row.zero_shot, row.few_shot
    assert zero is not None and few is not None  # pending_questions yields complete pairs only
    candidates = (zero, few) if first is BackendType.ZERO_SHOT else (few, zero)
    base = dict(experiment_id=experiment_id, item_index=row.item_index, repeat=row.repeat, judge_model=judge_model,
                first=first, zero_shot_uid=zero.uid, few_shot_uid=few.uid)
    try:
        answer = judge_one(row.idea, row.context, *candidates)
    except ModelNotConfigured:
        raise  # every question would fail the same way: stop instead
    except Exception as error:  # noqa: BLE001 — stored and counted as a failed call, shown to the user
        if not isinstance(error, (PipelineError, RepositoryError, InvalidRecord)):
            logger.exception("unexpected error judging item %d of experiment %s", row.item_index, experiment_id)
        verdict = JudgeVerdict(**base, status="failed", error=str(error) or type(error).__name__)
    else:
        choice = getattr(answer, "choice", None)
        if choice is None:
            verdict = JudgeVerdict(**base, status="unparsed", error=getattr(answer, "raw", None) or "(empty answer)")
        else:
            verdict = JudgeVerdict(**base, status="answered", choice=choice, reason=getattr(answer, "reason", None))
    experiment_repo.record_verdict(verdict)
    return verdict


def judge_experiment(
    experiment_repo: ExperimentRepository,
    experiment_id: str,
    *,
    judge_one: JudgeOne,
    judge_model: str,
    concurrency: int,
    progress: Progress | None = None,
) -> JudgingResult:
    """Ask the judge every question of the experiment that has no usable verdict yet.

    Args:
        experiment_repo: where the experiment's pairs are read and the verdicts stored.
        experiment_id: the experiment.
        judge_one: `(idea, context, candidate_a, candidate_b) -> JudgeAnswer` (`pipeline.judge.ServiceJudge`).
        judge_model: the judge's model string, part of every verdict's key.
        concurrency: at most this many judge calls at once.
        progress: called as `progress(done, planned)` in this thread, at the start and after each answer.

    Raises:
        ExperimentNotFound: no experiment has this id.
        ModelNotConfigured: from `judge_one` (the judge is not usable at all).
    """
    rows = paired_results(experiment_repo, experiment_id)
    planned = 2 * sum(row.complete for row in rows)
    todo = pending_questions(rows, experiment_repo.verdicts(experiment_id), judge_model)
    cached = planned - len(todo)
    counts = {"answered": 0, "unparsed": 0, "failed": 0}
    errors: list[str] = []
    if progress:
        progress(cached, planned)

    def count(verdict: JudgeVerdict) -> None:
        counts[verdict.status] += 1
        if verdict.status == "failed":
            errors.append(f"item {verdict.item_index + 1} ({verdict.first.value} shown first): {verdict.error}")
        if progress:
            progress(cached + sum(counts.values()), planned)

    run_bounded((partial(_ask, experiment_repo, experiment_id, judge_one, judge_model, q) for q in todo),
                concurrency=concurrency, on_result=count, name=f"judge-{experiment_id}")
    return JudgingResult(judge_model, planned, len(todo), counts["answered"], counts["unparsed"], counts["failed"],
                         cached, tuple(errors))
