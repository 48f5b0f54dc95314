"""The Compare experiment runner: every idea of an evaluation set through both backends, resumably.

    improver = ServiceImprover(programs=..., lm=lm, repo=repo, model_version=..., outbox=..., breaker=...)
    result = run_experiment(experiments, items=default_eval_set(), repeats=1, name="baseline",
                            improve_one=improver, concurrency=4, progress=print, **improver.versions)
    summary = summarize(experiments, result.experiment.id)

The runner knows nothing about LMs or programs: `improve_one(item, backend, experiment_id)` does one
improvement and returns its history record (the composition root builds it around `service.improve`).
Every attempt is stored as an experiment run; a failure is stored with its message and counted, never
dropped. Re-running with an `experiment_id` runs only what has not succeeded yet.

The model's response cache must be off for experiments (build the LM with `cache=False`): a cached answer
would make latency meaningless and turn repeats into copies.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from pipeline.errors import ModelNotConfigured, PipelineError
from pipeline.evalsets import EvalItem, check_against_demonstrations, eval_set_hash
from pipeline.pool import run_bounded
from store.errors import InvalidRecord, RepositoryError
from store.experiments import Experiment, ExperimentNotFound, ExperimentRepository, ExperimentRun, new_experiment_id
from store.record import BackendType, PromptHistory

logger = logging.getLogger(__name__)

BACKENDS = (BackendType.ZERO_SHOT, BackendType.FEW_SHOT)
ImproveOne = Callable[[EvalItem, BackendType, str], PromptHistory]
Progress = Callable[[int, int], None]
RunKey = tuple[int, int, BackendType]


class ExperimentMismatch(PipelineError, ValueError):
    """A resume was asked with an evaluation set, repeats or model that differ from the experiment's."""


@dataclass(frozen=True, slots=True)
class ExperimentResult:
    """What one call of `run_experiment` did.

    Attributes:
        experiment: the experiment afterwards (status and counts over all its runs).
        attempted: runs attempted in this call.
        succeeded: of those, how many succeeded.
        failed: of those, how many failed (their messages are in `errors`).
        skipped: runs that had already succeeded before this call (a resume skips them).
    """

    experiment: Experiment
    attempted: int
    succeeded: int
    failed: int
    skipped: int
    errors: tuple[str, ...] = ()


def check_eval_set(items: Sequence[EvalItem], few_shot_program: Any) -> None:
    """Refuse evaluation ideas the few-shot program has seen: the shipped demonstrations and the demos
    inside `few_shot_program` (a saved, bootstrapped program may hold others).

    Raises:
        InvalidEvalSet: naming each such idea.
    """
    from pipeline.demonstrations import load_demonstrations

    demonstrations: list[Any] = list(load_demonstrations())
    for predictor in getattr(few_shot_program, "predictors", lambda: [])():
        demonstrations += list(getattr(predictor, "demos", []) or [])
    check_against_demonstrations(items, demonstrations)


def plan_calls(items: Sequence[Any], repeats: int) -> int:
    """The number of model calls an experiment makes: items × repeats × 2 backends."""
    return len(items) * int(repeats) * len(BACKENDS)


def pending_runs(experiment: Experiment, runs: Sequence[ExperimentRun]) -> list[RunKey]:
    """The (item, repeat, backend) runs that have not succeeded, item by item.

    The backend order alternates from item to item so that neither backend always goes first (a
    provider warming up or throttling would otherwise favour one of them).
    """
    done = {run.key for run in runs if run.status == "succeeded"}
    keys = []
    for index in range(len(experiment.items)):
        backends = BACKENDS if index % 2 == 0 else BACKENDS[::-1]
        for repeat in range(experiment.repeats):
            keys += [(index, repeat, b) for b in backends if (index, repeat, b) not in done]
    return keys


def _open(
    experiment_repo: ExperimentRepository,
    experiment_id: str | None,
    items: Sequence[EvalItem] | None,
    repeats: int | None,
    name: str,
    versions: Mapping[str, Any],
) -> Experiment:
    if experiment_id is None:
        if not items:
            raise ExperimentMismatch("a new experiment needs at least one evaluation item")
        repeats = 1 if repeats is None else int(repeats)
        experiment = Experiment(
            id=new_experiment_id(), name=name or "", eval_set_hash=eval_set_hash(items), repeats=repeats,
            items=tuple((item.idea, item.context) for item in items), planned=plan_calls(items, repeats),
            **versions,
        )
        return experiment_repo.create(experiment)
    experiment = experiment_repo.get(experiment_id)
    if experiment is None:
        raise ExperimentNotFound(f"no experiment with id {experiment_id!r}; `prompt-improver compare --list` shows them")
    if items is not None and eval_set_hash(items) != experiment.eval_set_hash:
        raise ExperimentMismatch(
            f"experiment {experiment_id} was run on another evaluation set (hash {experiment.eval_set_hash}); "
            "resume it without an evaluation set, or start a new experiment"
        )
    if repeats is not None and repeats != experiment.repeats:
        raise ExperimentMismatch(f"experiment {experiment_id} has repeats={experiment.repeats}, not {repeats}")
    for field_name, value in versions.items():
        stored = getattr(experiment, field_name)
        if value and stored and value != stored:
            # Mixing two models or program versions in one experiment would make its comparison meaningless.
            raise ExperimentMismatch(
                f"experiment {experiment_id} was run with {field_name.replace('_', ' ')} {stored!r}, "
                f"but this run would use {value!r}; start a new experiment instead"
            )
    return experiment


def _attempt(
    experiment_repo: ExperimentRepository, experiment: Experiment, key: RunKey, improve_one: ImproveOne
) -> ExperimentRun:
    index, repeat, backend = key
    idea, context = experiment.items[index]
    try:
        record = improve_one(EvalItem(idea, context), backend, experiment.id)
    except ModelNotConfigured:
        raise  # every run would fail the same way: stop the experiment instead
    except Exception as error:  # noqa: BLE001 — stored and counted as a failed run, shown to the user
        if not isinstance(error, (PipelineError, RepositoryError, InvalidRecord)):
            logger.exception("unexpected error improving item %d (%s) of experiment %s", index, backend.value,
                             experiment.id)
        message = str(error) or type(error).__name__
        run = ExperimentRun(experiment.id, index, repeat, backend, "failed", idea, context, error=message)
    else:
        run = ExperimentRun(experiment.id, index, repeat, backend, "succeeded", idea, context, record_uid=record.uid)
    experiment_repo.record_run(run)
    return run


def run_experiment(
    experiment_repo: ExperimentRepository,
    *,
    items: Sequence[EvalItem] | None,
    repeats: int | None,
    name: str = "",
    improve_one: ImproveOne,
    concurrency: int,
    progress: Progress | None = None,
    experiment_id: str | None = None,
    model_version: str = "",
    program_version_zero_shot: str | None = None,
    program_version_few_shot: str | None = None,
) -> ExperimentResult:
    """Run (or resume) an experiment and return what happened.

    Args:
        experiment_repo: where the experiment and its runs are stored.
        items: the evaluation set; for a resume None (the stored set is used) or the same set.
        repeats: how many times each item goes through each backend (a resume: None or the same).
        name: a label for a new experiment.
        improve_one: `(item, backend, experiment_id) -> PromptHistory`; raises on failure.
        concurrency: at most this many improvements at once.
        progress: called as `progress(done, planned)` from the calling thread, once at the start and
            after every run (runs that succeeded before a resume count as done).
        experiment_id: resume this experiment: only runs without a success are (re)run.
        model_version, program_version_zero_shot, program_version_few_shot: stored on a new
            experiment; a resume refuses values that differ from the stored ones.

    Returns:
        The result; `experiment.status` is `completed` when every planned run succeeded, `partial`
        when some failed, `interrupted` when the run was stopped (KeyboardInterrupt, a stopped page,
        ModelNotConfigured), which is re-raised.

    Raises:
        ExperimentMismatch: a new experiment without items, or a resume with different settings.
        ExperimentNotFound: no experiment has `experiment_id`.
        ModelNotConfigured: from `improve_one`; the experiment is left `interrupted`.
    """
    if concurrency < 1:
        raise ExperimentMismatch(f"concurrency must be at least 1, got {concurrency}")
    versions = {
        "model_version": model_version,
        "program_version_zero_shot": program_version_zero_shot,
        "program_version_few_shot": program_version_few_shot,
    }
    experiment = _open(experiment_repo, experiment_id, items, repeats, name, versions)
    experiment = experiment_repo.set_status(experiment.id, "running")
    todo = pending_runs(experiment, experiment_repo.runs(experiment.id))
    skipped = experiment.planned - len(todo)
    done, succeeded, errors = skipped, 0, []
    if progress:
        progress(done, experiment.planned)
    status = "interrupted"

    def count(run: ExperimentRun) -> None:
        nonlocal done, succeeded
        done += 1
        if run.status == "succeeded":
            succeeded += 1
        else:
            errors.append(f"item {run.item_index + 1} ({run.backend.value}): {run.error}")
        if progress:
            progress(done, experiment.planned)

    try:
        run_bounded((partial(_attempt, experiment_repo, experiment, key, improve_one) for key in todo),
                    concurrency=concurrency, on_result=count, name=f"experiment-{experiment.id}")
        status = "completed" if not errors else "partial"
    finally:
        try:
            experiment = experiment_repo.set_status(experiment.id, status)
        except RepositoryError:
            logger.exception("could not record the status %r of experiment %s", status, experiment.id)
    # `partial` can also come from failures of an earlier call that this call did not retry.
    if status == "completed" and experiment.succeeded < experiment.planned:
        experiment = experiment_repo.set_status(experiment.id, "partial")
    attempted = done - skipped
    return ExperimentResult(experiment, attempted, succeeded, attempted - succeeded, skipped, tuple(errors))


@dataclass(frozen=True)
class ServiceImprover:
    """`improve_one` around `service.improve`, built by the composition roots.

    Pass `**improver.versions` to `run_experiment` so the experiment records the model and programs used.

    Attributes:
        programs: backend → `(program, version)` as `load_program` returns them.
        lm: the DSPy LM, built with its response cache off.
        repo, model_version, outbox, breaker: passed to `improve` unchanged.
    """

    programs: Mapping[BackendType, tuple[Callable[..., object], str | None]]
    lm: object
    repo: Any
    model_version: str
    outbox: Any = None
    breaker: Any = None

    @property
    def versions(self) -> dict[str, Any]:
        """The model and program versions, as `run_experiment`'s keyword arguments."""
        return {
            "model_version": self.model_version,
            "program_version_zero_shot": self.programs[BackendType.ZERO_SHOT][1],
            "program_version_few_shot": self.programs[BackendType.FEW_SHOT][1],
        }

    def __call__(self, item: EvalItem, backend: BackendType, experiment_id: str) -> PromptHistory:
        from pipeline.service import improve

        program, version = self.programs[backend]
        outcome = improve(
            item.idea, item.context, backend, program=program, program_version=version, lm=self.lm,
            repo=self.repo, model_version=self.model_version, outbox=self.outbox, breaker=self.breaker,
            experiment_id=experiment_id,
        )
        if not outcome.saved:
            logger.warning("experiment %s: record %s not saved yet: %s", experiment_id, outcome.record.uid,
                           outcome.persistence_error)
        return outcome.record
