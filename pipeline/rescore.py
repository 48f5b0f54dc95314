"""Recompute the quality of stored records under the current metric, in batches, resumably.

Each batch is read in id order after the last one and written in one transaction with the metric's
version, so a rescore killed at any point resumes where it stopped: records already at the current
version are no longer selected. Only `quality` and `metric_version` change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from pipeline.normalize import ImprovedPrompt
from pipeline.quality import QualityMetric
from store.record import PromptHistory
from store.repository import PromptRepository

DEFAULT_BATCH = 500


@dataclass(frozen=True, slots=True)
class RescoreResult:
    """How many records were rescored, of how many were stale when the run started."""

    rescored: int
    stale: int
    metric_version: int


def improvement_of(record: PromptHistory) -> ImprovedPrompt:
    """The improvement a stored record holds, as the metric reads it."""
    return ImprovedPrompt(
        improved_prompt=record.improved_prompt, role=record.role, directive=record.directive,
        framework=record.framework, guardrails=record.guardrails, confidence=record.confidence,
        reasoning=record.reasoning,
    )


def rescore(
    repo: PromptRepository,
    metric: QualityMetric,
    *,
    since: datetime | None = None,
    batch_size: int = DEFAULT_BATCH,
    progress: Callable[[int, int], None] | None = None,
) -> RescoreResult:
    """Score every record not yet scored by `metric.version` (from `since` on) and store the scores.

    Args:
        progress: called after each stored batch with (records done, records stale at the start).

    Raises:
        ValueError: `batch_size` is not a whole number from 1 to 100,000.
        RepositoryError: from the repository (batches stored before it are kept).
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or not 1 <= batch_size <= 100_000:
        raise ValueError(f"batch_size must be a whole number from 1 to 100,000, got {batch_size!r}")
    version = metric.version
    stale = repo.count_to_rescore(version, since)
    done, after_id = 0, 0
    while batch := repo.records_to_rescore(version, after_id=after_id, since=since, limit=batch_size):
        scores = [
            (record.id, metric.evaluate(record.original_idea, improvement_of(record), record.context).quality, version)
            for record in batch
        ]
        done += repo.update_quality(scores)
        after_id = batch[-1].id
        if progress is not None:
            progress(done, stale)
    return RescoreResult(done, stale, version)
