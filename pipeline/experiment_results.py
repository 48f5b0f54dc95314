"""The read side of Compare experiments: per-item pairs, and the paired statistics with the experiment's facts.

Pairs are per item. With `repeats` > 1 each backend's values are averaged over the repeats in which
both backends succeeded, so one idea counts once (repeats of the same idea are not independent pairs).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from statistics import fmean
from typing import Any

from pipeline.judge_summary import ORDERS, JudgeSummary, pair_verdicts, summarize_judge
from pipeline.statistics import InsufficientData, PairedComparison, compare_paired
from store.experiments import Experiment, ExperimentNotFound, ExperimentRepository, ExperimentRun
from store.record import BackendType, PromptHistory
from store.timestamps import to_iso

METRICS = ("quality", "confidence", "latency_ms")
STAT_FIELDS = (
    "mean_zero_shot", "mean_few_shot", "median_zero_shot", "median_few_shot", "mean_difference",
    "ci_low", "ci_high", "p_value", "p_value_adjusted", "effect_size",
)
MISSING_RECORD = "succeeded, but its record is not in the history (still in the outbox, or pruned)"


@dataclass(frozen=True, slots=True)
class PairedRow:
    """One item's repeat through both backends: the two records (None when that run did not succeed)."""

    item_index: int
    repeat: int
    idea: str
    context: str
    zero_shot: PromptHistory | None = None
    few_shot: PromptHistory | None = None
    zero_shot_error: str | None = None
    few_shot_error: str | None = None

    @property
    def complete(self) -> bool:
        """Whether both backends produced a record."""
        return self.zero_shot is not None and self.few_shot is not None

    def value(self, backend: BackendType, metric: str) -> float | None:
        """A metric of one backend's record, or None."""
        record = self.zero_shot if backend is BackendType.ZERO_SHOT else self.few_shot
        return None if record is None else getattr(record, metric)

    def to_flat(self) -> dict[str, Any]:
        """One CSV row: the idea, each metric for both backends and their difference, errors."""
        row: dict[str, Any] = {"item": self.item_index + 1, "repeat": self.repeat + 1, "idea": self.idea,
                               "context": self.context}
        for metric in METRICS:
            zero, few = self.value(BackendType.ZERO_SHOT, metric), self.value(BackendType.FEW_SHOT, metric)
            row[f"{metric}_zero_shot"] = zero
            row[f"{metric}_few_shot"] = few
            row[f"{metric}_difference"] = None if zero is None or few is None else few - zero
        row["zero_shot_error"] = self.zero_shot_error
        row["few_shot_error"] = self.few_shot_error
        return row


def _error(run: ExperimentRun | None, records: dict[str, PromptHistory]) -> str | None:
    if run is None:
        return "not run yet"
    if run.status == "failed":
        return run.error or "failed"
    return None if run.record_uid in records else MISSING_RECORD


def paired_results(experiment_repo: ExperimentRepository, experiment_id: str) -> list[PairedRow]:
    """Every (item, repeat) of the experiment with both backends' records, in item order.

    Raises:
        ExperimentNotFound: no experiment has this id.
    """
    experiment = experiment_repo.get(experiment_id)
    if experiment is None:
        raise ExperimentNotFound(f"no experiment with id {experiment_id!r}")
    runs = {run.key: run for run in experiment_repo.runs(experiment_id)}
    records = experiment_repo.records(experiment_id)
    rows = []
    for index, (idea, context) in enumerate(experiment.items):
        for repeat in range(experiment.repeats):
            zero = runs.get((index, repeat, BackendType.ZERO_SHOT))
            few = runs.get((index, repeat, BackendType.FEW_SHOT))
            rows.append(PairedRow(
                index, repeat, idea, context,
                zero_shot=records.get(zero.record_uid) if zero and zero.record_uid else None,
                few_shot=records.get(few.record_uid) if few and few.record_uid else None,
                zero_shot_error=_error(zero, records),
                few_shot_error=_error(few, records),
            ))
    return rows


def _mean(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return fmean(present) if present else None


def item_summaries(rows: list[PairedRow]) -> list[dict[str, Any]]:
    """One dict per item with a complete repeat: `item`, `idea`, `context`, `pairs` (complete repeats) and,
    per metric, `<metric>_zero_shot`, `<metric>_few_shot` (means over those repeats) and `<metric>_difference`."""
    by_item: dict[int, list[PairedRow]] = {}
    for row in rows:
        if row.complete:
            by_item.setdefault(row.item_index, []).append(row)
    summaries = []
    for index, item_rows in sorted(by_item.items()):
        entry: dict[str, Any] = {"item": index + 1, "idea": item_rows[0].idea, "context": item_rows[0].context,
                                 "pairs": len(item_rows)}
        for metric in METRICS:
            zero = _mean([r.value(BackendType.ZERO_SHOT, metric) for r in item_rows])
            few = _mean([r.value(BackendType.FEW_SHOT, metric) for r in item_rows])
            entry[f"{metric}_zero_shot"] = zero
            entry[f"{metric}_few_shot"] = few
            entry[f"{metric}_difference"] = None if zero is None or few is None else few - zero
        summaries.append(entry)
    return summaries


def item_pairs(rows: list[PairedRow]) -> dict[str, tuple[list[float | None], list[float | None]]]:
    """metric → (zero-shot values, few-shot values), one value per item that has a complete repeat."""
    items = item_summaries(rows)
    return {m: ([i[f"{m}_zero_shot"] for i in items], [i[f"{m}_few_shot"] for i in items]) for m in METRICS}


@dataclass(frozen=True, slots=True)
class ExperimentSummary:
    """An experiment's facts, its paired comparison (None before any complete pair) and its rows."""

    experiment: Experiment
    comparison: PairedComparison | None
    rows: list[PairedRow] = field(default_factory=list)
    judge: JudgeSummary | None = None  # None: no judge configured and none ever asked about this experiment

    @property
    def failed_by_backend(self) -> dict[str, int]:
        """How many of the latest runs failed, per backend."""
        counts = {b.value: 0 for b in BackendType}
        for row in self.rows:
            counts[BackendType.ZERO_SHOT.value] += row.zero_shot_error not in (None, "not run yet", MISSING_RECORD)
            counts[BackendType.FEW_SHOT.value] += row.few_shot_error not in (None, "not run yet", MISSING_RECORD)
        return counts

    @property
    def records_missing(self) -> int:
        """Succeeded runs whose history record is not in the database (kept in the outbox, or pruned)."""
        return sum((row.zero_shot_error == MISSING_RECORD) + (row.few_shot_error == MISSING_RECORD)
                   for row in self.rows)

    @property
    def verdict(self) -> str:
        """The plain-language verdict, or why there is none yet."""
        if self.comparison is None:
            return "no verdict yet: no idea has a result from both backends"
        return self.comparison.verdict

    def to_dict(self) -> dict[str, Any]:
        """The `compare --json` object: the experiment's facts plus the comparison's numbers."""
        e = self.experiment
        if self.comparison is not None:
            stats = self.comparison.to_dict()
        else:
            empty = {"n_pairs": 0, "wins": 0, "ties": 0, "losses": 0} | {name: None for name in STAT_FIELDS}
            stats = {"n_pairs": 0, "verdict": self.verdict, "warning": "No idea has a result from both backends yet.",
                     "metrics": {m: {"metric": m} | empty for m in METRICS}}
        missing = self.records_missing
        if missing:
            # Otherwise "N of N runs succeeded" next to fewer pairs (or none) would go unexplained.
            note = (f"{missing} succeeded run(s) have no record in the history yet (kept in the outbox until the "
                    "database works, or pruned); their ideas are left out of the statistics until then.")
            stats = stats | {"warning": f"{stats['warning']} {note}" if stats.get("warning") else note}
        return {
            "experiment_id": e.id,
            "name": e.name,
            "status": e.status,
            "created": to_iso(e.created),
            "model_version": e.model_version,
            "program_version_zero_shot": e.program_version_zero_shot,
            "program_version_few_shot": e.program_version_few_shot,
            "eval_set_hash": e.eval_set_hash,
            "items": len(e.items),
            "repeats": e.repeats,
            "planned": e.planned,
            "succeeded": e.succeeded,
            "failed": e.failed,
            "failed_by_backend": self.failed_by_backend,
            "records_missing": missing,
        } | stats | {"judge": self.judge.to_dict() if self.judge is not None else None}

    def flat_rows(self) -> list[dict[str, Any]]:
        """`PairedRow.to_flat` per row, plus the judge's columns when there is a judge: the pair's outcome and,
        with zero-shot shown first and with few-shot shown first, what the judge said (a backend, `tie`,
        `unparsed`, `failed`, or empty when not asked) and a note (its reason; for an unparsed answer the start
        of what it said; for a failed call the error)."""
        flat = [row.to_flat() for row in self.rows]
        if self.judge is None:
            return flat
        pairs = {(p.item_index, p.repeat): p for p in self.judge.pairs}
        for row, entry in zip(self.rows, flat):
            pair = pairs.get((row.item_index, row.repeat))
            entry["judge_outcome"] = pair.outcome if pair else None
            for first, index in zip(ORDERS, range(2)):
                key = first.value.replace("-", "_")
                verdict = pair.verdicts[index] if pair else None
                entry[f"judge_{key}_first"] = pair.order_side(first) if pair else None
                entry[f"judge_note_{key}_first"] = (verdict.reason or verdict.error) if verdict else None
        return flat


def summarize(
    experiment_repo: ExperimentRepository, experiment_id: str, *, seed: int = 0, resamples: int = 2000,
    judge_model: str | None = None,
) -> ExperimentSummary:
    """The experiment, its per-item rows, the paired comparison of quality, confidence and latency, and
    the pairwise judge's summary.

    Args:
        judge_model: whose verdicts to summarise (JUDGE_MODEL); None: the judge model with the most stored
            verdicts for this experiment, if any (so stored verdicts stay visible), else no judge summary.

    Raises:
        ExperimentNotFound: no experiment has this id.
    """
    rows = paired_results(experiment_repo, experiment_id)
    experiment = experiment_repo.get(experiment_id)
    assert experiment is not None  # paired_results raised otherwise
    try:
        comparison = compare_paired(item_pairs(rows), seed=seed, resamples=resamples)
    except InsufficientData:
        comparison = None
    verdicts = experiment_repo.verdicts(experiment_id)
    if judge_model is None and verdicts:
        judge_model = Counter(v.judge_model for v in verdicts).most_common(1)[0][0]
    judge = None if judge_model is None else summarize_judge(judge_model, pair_verdicts(rows, verdicts, judge_model))
    return ExperimentSummary(experiment, comparison, rows, judge)
