"""Compare experiments: the domain records, the repository port and an in-memory fake.

An experiment runs an evaluation set through both backends `repeats` times. Each attempt of one
(item, repeat, backend) is an `ExperimentRun`; a succeeded run points at the `prompt_history` record it
produced by `uid`. Resuming and pairing are computed from these rows. Standard library only; the SQLite
adapter is `store.sqlite.experiments.SQLiteExperimentRepository`.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

from store.errors import InvalidRecord, RepositoryError
from store.judge_verdicts import JudgeVerdict
from store.record import BackendType, PromptHistory
from store.repository import PromptRepository
from store.timestamps import utc_now

EXPERIMENT_STATUSES = ("running", "completed", "partial", "interrupted")
RUN_STATUSES = ("succeeded", "failed")
MAX_ERROR_CHARS = 2_000


class ExperimentNotFound(RepositoryError):
    """No experiment has the given id."""


def new_experiment_id() -> str:
    """A short random id (12 hex digits): easy to copy from a terminal, unique enough for one database."""
    return uuid.uuid4().hex[:12]


@dataclass(frozen=True, slots=True)
class Experiment:
    """One comparison of zero-shot and few-shot over an evaluation set.

    `items` are the evaluation set's `(idea, context)` pairs in order; item indexes refer to them.
    `planned` is items × repeats × 2; `succeeded` and `failed` count the runs whose latest attempt
    ended that way (a failed run that later succeeds on resume counts as succeeded only).
    """

    id: str
    name: str
    eval_set_hash: str
    repeats: int
    items: tuple[tuple[str, str], ...]
    model_version: str = ""
    program_version_zero_shot: str | None = None
    program_version_few_shot: str | None = None
    status: str = "running"
    planned: int = 0
    succeeded: int = 0
    failed: int = 0
    created: datetime = field(default_factory=utc_now)

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not 1 <= len(self.id) <= 64:
            raise InvalidRecord(f"experiment id must be 1 to 64 characters, got {self.id!r}")
        if self.status not in EXPERIMENT_STATUSES:
            raise InvalidRecord(f"experiment status must be one of {EXPERIMENT_STATUSES}, got {self.status!r}")
        if isinstance(self.repeats, bool) or not isinstance(self.repeats, int) or self.repeats < 1:
            raise InvalidRecord(f"repeats must be an integer >= 1, got {self.repeats!r}")
        for name in ("planned", "succeeded", "failed"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InvalidRecord(f"{name} must be an integer >= 0, got {value!r}")
        object.__setattr__(self, "items", tuple((str(idea), str(context)) for idea, context in self.items))
        if self.created.utcoffset() is None:
            raise InvalidRecord(f"created must be timezone-aware, got {self.created!r}")

    @property
    def is_complete(self) -> bool:
        """True when every planned run has succeeded."""
        return self.status == "completed"


@dataclass(frozen=True, slots=True)
class ExperimentRun:
    """The latest attempt of one item's repeat through one backend."""

    experiment_id: str
    item_index: int
    repeat: int
    backend: BackendType
    status: str
    idea: str
    context: str = ""
    record_uid: str | None = None
    error: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "backend", BackendType.parse(self.backend))
        if self.status not in RUN_STATUSES:
            raise InvalidRecord(f"run status must be one of {RUN_STATUSES}, got {self.status!r}")
        if self.item_index < 0 or self.repeat < 0:
            raise InvalidRecord(f"item_index and repeat must be >= 0, got {self.item_index}, {self.repeat}")
        if self.status == "succeeded" and not self.record_uid:
            raise InvalidRecord("a succeeded run needs the record_uid of the history record it produced")
        if self.error is not None and len(self.error) > MAX_ERROR_CHARS:
            object.__setattr__(self, "error", self.error[: MAX_ERROR_CHARS - 1] + "…")

    @property
    def key(self) -> tuple[int, int, BackendType]:
        """What identifies the run within its experiment."""
        return (self.item_index, self.repeat, self.backend)


class ExperimentRepository(Protocol):
    """Stores experiments and their runs. Lists are newest first; runs are in (item, repeat, backend) order."""

    def create(self, experiment: Experiment) -> Experiment:
        """Store a new experiment. Raises RepositoryError if the id is taken."""
        ...

    def get(self, experiment_id: str) -> Experiment | None:
        """The experiment with this id (counts up to date), or None."""
        ...

    def list_experiments(self, limit: int = 100) -> list[Experiment]:
        """Experiments, newest first."""
        ...

    def record_run(self, run: ExperimentRun) -> None:
        """Store a run, replacing an earlier attempt of the same (item, repeat, backend)."""
        ...

    def runs(self, experiment_id: str) -> list[ExperimentRun]:
        """Every run of the experiment, ordered by item, repeat, backend."""
        ...

    def set_status(self, experiment_id: str, status: str) -> Experiment:
        """Set the status, recount succeeded/failed from the runs, and return the experiment.

        Raises:
            ExperimentNotFound: no experiment has this id.
        """
        ...

    def records(self, experiment_id: str) -> dict[str, PromptHistory]:
        """The history records tagged with this experiment, by uid."""
        ...

    def record_verdict(self, verdict: JudgeVerdict) -> None:
        """Store a judge verdict, replacing an earlier one with the same key (`JudgeVerdict.key`).

        Raises:
            ExperimentNotFound: no experiment has the verdict's experiment id.
        """
        ...

    def verdicts(self, experiment_id: str) -> list[JudgeVerdict]:
        """Every judge verdict of the experiment, ordered by judge model, item, repeat, backend shown first."""
        ...


def _backend_order(run: ExperimentRun) -> tuple[int, int, str]:
    return (run.item_index, run.repeat, run.backend.value)


def _verdict_order(verdict: JudgeVerdict) -> tuple[str, int, int, str]:
    return (verdict.judge_model, verdict.item_index, verdict.repeat, verdict.first.value)


class InMemoryExperimentRepository:
    """The fake: experiments and runs in dicts; history records come from the given PromptRepository."""

    def __init__(self, history: PromptRepository | None = None) -> None:
        self._history = history
        self._experiments: dict[str, Experiment] = {}
        self._runs: dict[str, dict[tuple[int, int, BackendType], ExperimentRun]] = {}
        self._verdicts: dict[str, dict[tuple[int, int, str, BackendType], JudgeVerdict]] = {}
        self._lock = threading.Lock()  # the runner records runs from worker threads

    def create(self, experiment: Experiment) -> Experiment:
        """Store a new experiment. Raises RepositoryError if the id is taken."""
        with self._lock:
            if experiment.id in self._experiments:
                raise RepositoryError(f"an experiment with id {experiment.id!r} already exists")
            self._experiments[experiment.id] = experiment
            self._runs[experiment.id] = {}
            self._verdicts[experiment.id] = {}
            return experiment

    def get(self, experiment_id: str) -> Experiment | None:
        """The experiment with this id (counts up to date), or None."""
        with self._lock:
            return self._experiments.get(experiment_id)

    def list_experiments(self, limit: int = 100) -> list[Experiment]:
        """Experiments, newest first."""
        with self._lock:
            ordered = sorted(self._experiments.values(), key=lambda e: e.created, reverse=True)
            return ordered[:limit]

    def record_run(self, run: ExperimentRun) -> None:
        """Store a run, replacing an earlier attempt of the same (item, repeat, backend)."""
        with self._lock:
            if run.experiment_id not in self._experiments:
                raise ExperimentNotFound(f"no experiment with id {run.experiment_id!r}")
            self._runs[run.experiment_id][run.key] = run

    def runs(self, experiment_id: str) -> list[ExperimentRun]:
        """Every run of the experiment, ordered by item, repeat, backend."""
        with self._lock:
            return sorted(self._runs.get(experiment_id, {}).values(), key=_backend_order)

    def set_status(self, experiment_id: str, status: str) -> Experiment:
        """Set the status, recount succeeded/failed from the runs; return the experiment (or ExperimentNotFound)."""
        with self._lock:
            if experiment_id not in self._experiments:
                raise ExperimentNotFound(f"no experiment with id {experiment_id!r}")
            runs = self._runs[experiment_id].values()
            updated = replace(
                self._experiments[experiment_id],
                status=status,
                succeeded=sum(r.status == "succeeded" for r in runs),
                failed=sum(r.status == "failed" for r in runs),
            )
            self._experiments[experiment_id] = updated
            return updated

    def records(self, experiment_id: str) -> dict[str, PromptHistory]:
        """The history records tagged with this experiment, by uid."""
        if self._history is None:
            return {}
        found: dict[str, PromptHistory] = {}
        offset = 0
        while batch := self._history.find_recent(limit=1_000, offset=offset):
            found.update({r.uid: r for r in batch if r.experiment_id == experiment_id})
            offset += len(batch)
        return found

    def record_verdict(self, verdict: JudgeVerdict) -> None:
        """Store a judge verdict, replacing an earlier one with the same key (or ExperimentNotFound)."""
        with self._lock:
            if verdict.experiment_id not in self._experiments:
                raise ExperimentNotFound(f"no experiment with id {verdict.experiment_id!r}")
            self._verdicts[verdict.experiment_id][verdict.key] = verdict

    def verdicts(self, experiment_id: str) -> list[JudgeVerdict]:
        """Every judge verdict of the experiment, ordered by judge model, item, repeat, backend shown first."""
        with self._lock:
            return sorted(self._verdicts.get(experiment_id, {}).values(), key=_verdict_order)
