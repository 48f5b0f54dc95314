"""The improve service: validate, call the program, time it, normalise, score, and record without loss.

    outcome = improve("Write a launch post for our API", program=program, program_version=version, lm=lm,
                      repo=repo, model_version="openai/gpt-4o-mini", outbox=outbox, breaker=breaker)

Collaborators are arguments; the composition root (the CLI, the dashboard) builds them. The service never
calls `dspy.configure`: the program runs inside `with dspy.context(lm=lm)`, so concurrent sessions (threads)
each use their own LM.

Persistence degrades instead of failing: when the store cannot take the record (any `RepositoryError`,
a repository that could not even be opened, or an open circuit breaker) the record goes to the outbox and
the outcome says `saved=False` with the reason. After the next successful save, the outbox is replayed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from pipeline.breaker import CircuitBreaker
from pipeline.errors import ImprovementCancelled, InvalidIdea, ModelNotConfigured, PipelineError
from pipeline.lm import HOW_TO_CONFIGURE
from pipeline.model_client import ModelClient
from pipeline.model_errors import MODEL_ERROR_PACKAGES, is_model_error  # noqa: F401 - the service's public names
from pipeline.normalize import ImprovedPrompt, normalize_prediction, translate_model_error
from pipeline.outbox import Outbox, OutboxError
from pipeline.validation import validate_idea
from store.errors import InvalidRecord, RepositoryError
from store.record import BackendType, PromptHistory
from store.repository import PromptRepository

logger = logging.getLogger(__name__)



@dataclass(frozen=True)
class ImprovementOutcome:
    """What `improve` produced.

    Attributes:
        record: the improvement (with its database id when saved).
        saved: whether the record is in the database now.
        persistence_error: why it is not (None when saved), naming where the record was kept.
        replayed: how many earlier outbox records were stored after this save.
        kept_in_outbox: whether the record waits in the outbox for replay.
    """

    record: PromptHistory
    saved: bool
    persistence_error: str | None
    replayed: int = 0
    kept_in_outbox: bool = False


def improve(
    idea: str,
    context: str = "",
    backend: BackendType | str = BackendType.FEW_SHOT,
    *,
    program: Callable[..., object],
    program_version: str | None,
    lm: object | None,
    repo: PromptRepository | None,
    model_version: str,
    outbox: Outbox | None = None,
    breaker: CircuitBreaker | None = None,
    repo_error: str | None = None,
    experiment_id: str | None = None,
    clock: Callable[[], float] = time.perf_counter,
    on_attempt: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
) -> ImprovementOutcome:
    """Improve one idea into a structured prompt and record it.

    Args:
        idea: the rough idea (5 to 20,000 characters).
        context: optional background for the idea.
        backend: which program this is (`zero-shot` or `few-shot`), stored on the record.
        program: the DSPy module, called as `program(original_idea=..., context=...)`.
        program_version: the program's version hash, stored on the record.
        lm: a `ModelClient` (structured output, bounded attempts), a plain DSPy LM (called as is: DSPy's
            chat layout, its own retries), or None when no model is configured.
        repo: where records are saved; None when it could not be opened (give the reason in `repo_error`).
        model_version: the model string, stored on the record.
        outbox: where records go when the store cannot take them; without one such a record is only returned.
        breaker: the store's circuit breaker, owned by the caller.
        repo_error: why `repo` is None.
        experiment_id: stored on the record.
        clock: seconds, for the latency measurement (injected by benchmarks).
        on_attempt: called with (attempt, attempts) before each model attempt (a `ModelClient` only).
        cancel: when set, stop before the next attempt and record nothing.

    Returns:
        The outcome: the record and whether (and why not) it was saved.

    Raises:
        InvalidIdea: the idea or context is not acceptable (before any model call).
        ModelNotConfigured: `lm` is None.
        ImprovementFailed: the model call failed or its answer was unusable (message and excerpt say why).
        ImprovementCancelled: `cancel` was set; nothing was recorded.
    """
    idea, context = validate_idea(idea, context)
    try:
        backend = BackendType.parse(backend)
    except InvalidRecord as error:
        raise InvalidIdea(str(error)) from None
    if lm is None:
        raise ModelNotConfigured(HOW_TO_CONFIGURE)

    improved, latency_ms = _run_program(program, lm, idea, context, clock, on_attempt, cancel)
    if cancel is not None and cancel.is_set():
        raise ImprovementCancelled("the improvement was cancelled; nothing was recorded")
    from pipeline.quality import QualityMetric

    scored = QualityMetric().evaluate(idea, improved, context)

    record = PromptHistory(
        original_idea=idea,
        context=context,
        improved_prompt=improved.improved_prompt,
        role=improved.role,
        directive=improved.directive,
        framework=improved.framework,
        guardrails=improved.guardrails,
        confidence=improved.confidence,
        reasoning=improved.reasoning,
        backend=backend,
        model_version=model_version,
        program_version=program_version,
        latency_ms=latency_ms,
        quality=scored.quality,
        metric_version=scored.version,
        experiment_id=experiment_id,
    )
    return persist(record, repo=repo, outbox=outbox, breaker=breaker, repo_error=repo_error)


def _run_program(
    program: Callable[..., object], lm: object, idea: str, context: str, clock: Callable[[], float],
    on_attempt: Callable[[int, int], None] | None = None, cancel: threading.Event | None = None,
) -> tuple[ImprovedPrompt, float]:
    import dspy

    start = clock()
    try:
        if isinstance(lm, ModelClient):
            prediction = lm.run(program, {"original_idea": idea, "context": context},
                                on_attempt=on_attempt, cancel=cancel)
        else:
            with dspy.context(lm=lm):
                prediction = program(original_idea=idea, context=context)
    except PipelineError:
        raise
    except Exception as error:
        if not is_model_error(error):
            raise
        failed = translate_model_error(error, lm.context if isinstance(lm, ModelClient) else None)
        logger.info("model call failed: %s", failed)  # raised to the caller, who reports it
        raise failed from error
    latency_ms = (clock() - start) * 1000.0
    return normalize_prediction(prediction), max(0.0, latency_ms)


def persist(
    record: PromptHistory,
    *,
    repo: PromptRepository | None,
    outbox: Outbox | None = None,
    breaker: CircuitBreaker | None = None,
    repo_error: str | None = None,
) -> ImprovementOutcome:
    """Save `record`, or keep it in the outbox when the store cannot take it; never raise for the store.

    After a successful save, earlier outbox records are replayed (exactly once: the store ignores a uid
    it already has).
    """
    if repo is None:
        return _keep(record, outbox, repo_error or "no database is available (no repository was given)")
    if breaker is not None and not breaker.allow():
        snapshot = breaker.snapshot()
        wait = snapshot.seconds_until_probe or 0.0
        return _keep(
            record,
            outbox,
            f"the database failed {snapshot.consecutive_failures} times in a row; not trying it again for "
            f"{wait:.0f} s (circuit breaker open)",
        )
    try:
        stored = repo.save(record)
    except RepositoryError as error:  # every adapter translates its driver's errors at the port
        if breaker is not None:
            breaker.record_failure()
        return _keep(record, outbox, f"could not save to the database: {error}")
    if breaker is not None:
        breaker.record_success()
    return ImprovementOutcome(stored, True, None, replayed=_replay_after_save(repo, outbox))


def _keep(record: PromptHistory, outbox: Outbox | None, reason: str) -> ImprovementOutcome:
    if outbox is None:
        message = f"{reason}; no outbox is configured, so this record exists only in this result"
        logger.warning("improvement %s not saved: %s", record.uid, message)
        return ImprovementOutcome(record, False, message)
    try:
        outbox.append(record, reason)
    except OutboxError as error:
        message = f"{reason}; and the outbox failed too ({error}), so this record exists only in this result"
        logger.error("improvement %s not saved: %s", record.uid, message)
        return ImprovementOutcome(record, False, message)
    message = f"{reason}; the record is kept in the outbox {outbox.path} and will be saved when the database works"
    logger.warning("improvement %s not saved: %s", record.uid, message)
    return ImprovementOutcome(record, False, message, kept_in_outbox=True)


def _replay_after_save(repo: PromptRepository, outbox: Outbox | None) -> int:
    if outbox is None or not outbox.path.exists():
        return 0
    try:
        return outbox.replay(repo)
    except OutboxError as error:
        logger.warning("outbox replay failed: %s", error)
        return 0


def replay_outbox_at_start(repo: PromptRepository | None, outbox: Outbox | None) -> int:
    """Replay the outbox into `repo` (composition roots call this once at start).

    Returns:
        how many records were stored; 0 when there is no repository, no outbox, or the outbox is unreadable
        (that is logged: the records stay in the file).
    """
    if outbox is not None:
        try:
            outbox.remove_leftovers()  # of a process killed while it held the outbox
        except OutboxError as error:
            logger.warning("cannot tidy the outbox's leftovers: %s", error)
    if repo is None:
        return 0
    return _replay_after_save(repo, outbox)
