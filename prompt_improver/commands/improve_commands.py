"""Model commands: `improve` and `compile-fewshot`.

Importing this module imports neither DSPy nor litellm: `prompt-improver --help` and the store's commands
must not pay for them. The handlers import the pipeline when they run, and an invalid idea is refused
before anything heavy is loaded or any request is sent.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from prompt_improver.settings import Settings, load_settings
from prompt_improver.terminal import json_text, printable

logger = logging.getLogger(__name__)

HISTORY_OFF = "history is turned off (SQLITE_ENABLED=false)"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `improve` and `compile-fewshot` to the `prompt-improver` parser."""
    improve = subparsers.add_parser(
        "improve",
        help="turn a rough idea into a structured prompt and record it",
        description="Turn a rough idea into a structured prompt with the configured model (LLM_MODEL) and "
        "record it. If the database cannot take the record it is kept in the outbox (exit status 0).",
    )
    improve.add_argument("idea", help="the rough idea, in quotes")
    improve.add_argument("--context", default="", metavar="TEXT", help="optional background: audience, constraints")
    improve.add_argument(
        "--backend", choices=("zero-shot", "few-shot"),
        help="which program (default: few-shot, or zero-shot when DSPY_FEWSHOT_ENABLED=false)",
    )
    improve.add_argument("--json", action="store_true", help="print one JSON object: the record plus saved/persistence_error")
    improve.add_argument("--db", type=Path, metavar="PATH", help="database file (default: SQLITE_DB_PATH)")
    improve.set_defaults(handler=run_improve)

    compile_ = subparsers.add_parser(
        "compile-fewshot",
        help="bootstrap a few-shot program against the configured model and save it",
        description="Run BootstrapFewShot with the quality metric against the configured model (this calls the "
        "model once per demonstration) and save the program as JSON; `improve` then uses it.",
    )
    compile_.add_argument("--k", type=int, metavar="K", help="demonstrations per prompt (default: DSPY_FEWSHOT_K)")
    compile_.add_argument(
        "--output", type=Path, metavar="PATH", help="where to save (default: DSPY_PROGRAM_DIR/few-shot.json)"
    )
    compile_.set_defaults(handler=run_compile_fewshot)


def _build_lm(settings: Settings):
    from prompt_improver.wiring import build_lm_from_settings

    return build_lm_from_settings(settings)


def _open_repository(settings: Settings):
    """The repository, or None and the reason: a store that cannot be opened must not cost the improvement."""
    from prompt_improver.wiring import open_repository
    from store.errors import RepositoryError

    try:
        return open_repository(settings), None
    except RepositoryError as error:
        logger.debug("the database cannot be opened: %s", error)  # the service reports it with the outcome
        return None, str(error)


def run_improve(args: argparse.Namespace) -> int:
    """`prompt-improver improve "IDEA"`: print the improvement; exit 0 even when it was kept in the outbox."""
    from pipeline.validation import validate_idea

    idea, context = validate_idea(args.idea, args.context)  # before any model, program or database work
    settings = load_settings(sqlite_db_path=args.db) if args.db is not None else load_settings()
    backend = args.backend or ("few-shot" if settings.dspy_fewshot_enabled else "zero-shot")
    lm = _build_lm(settings)

    from pipeline.breaker import CircuitBreaker
    from pipeline.outbox import Outbox
    from pipeline.programs import load_program
    from pipeline.service import improve, replay_outbox_at_start

    program, program_version = load_program(backend, settings.dspy_program_dir, k=settings.dspy_fewshot_k)
    if not settings.sqlite_enabled:
        # The user turned history off: nothing is opened, written or queued.
        outbox, repo, repo_error = None, None, HISTORY_OFF
    else:
        outbox = Outbox(settings.outbox_path)
        repo, repo_error = _open_repository(settings)
    try:
        replayed_at_start = replay_outbox_at_start(repo, outbox)
        outcome = improve(
            idea, context, backend, program=program, program_version=program_version, lm=lm, repo=repo,
            model_version=settings.llm_model or "", outbox=outbox, breaker=CircuitBreaker(), repo_error=repo_error,
        )
    finally:
        if repo is not None:
            repo.close()

    replayed = replayed_at_start + outcome.replayed
    if args.json:
        print(json_text({**outcome.record.to_dict(), "saved": outcome.saved,
                          "persistence_error": outcome.persistence_error}))
    else:
        _print_readable(outcome)
    if replayed:
        print(f"note: {replayed} earlier record(s) from the outbox were stored in the database", file=sys.stderr)
    if not settings.sqlite_enabled:
        print("note: history is off (SQLITE_ENABLED=false); this improvement was not recorded", file=sys.stderr)
    elif outcome.kept_in_outbox:
        # The reason is in the service's warning just above and in `persistence_error`.
        print(f"warning: the improvement was not saved to the database; it is kept in the outbox "
              f"{settings.outbox_path} and will be stored when the database works", file=sys.stderr)
    elif not outcome.saved:
        print(f"warning: the improvement was NOT saved: {outcome.persistence_error}", file=sys.stderr)
    return 0


def _print_readable(outcome) -> None:
    record = outcome.record
    facts = [record.backend.value, record.model_version or "no model name"]
    if record.latency_ms is not None:
        facts.append(f"{record.latency_ms:,.0f} ms")
    if record.quality is not None:
        facts.append(f"quality {record.quality:.2f}")
    if record.confidence is not None:
        facts.append(f"confidence {record.confidence:.2f}")
    lines = [f"Improved prompt ({', '.join(facts)}):", "", record.improved_prompt, ""]
    lines += [f"Role:       {record.role}", f"Directive:  {record.directive}", f"Framework:  {record.framework}"]
    if record.guardrails:
        lines.append("Guardrails:")
        lines += [f"  - {guardrail}" for guardrail in record.guardrails]
    if record.reasoning:
        lines.append(f"Reasoning:  {record.reasoning}")
    status = f"Saved as #{record.id}" if outcome.saved else "Not saved to the database (see the warning)"
    lines.append(f"{status} · program {record.program_version or '–'} · uid {record.uid}")
    print(printable("\n".join(lines)))  # the model's text must not drive the terminal


def run_compile_fewshot(args: argparse.Namespace) -> int:
    """`prompt-improver compile-fewshot`: bootstrap, save, print the path and the program version."""
    settings = load_settings()
    k = args.k if args.k is not None else settings.dspy_fewshot_k
    if k < 1:
        from prompt_improver.errors import UsageError

        raise UsageError(f"--k must be at least 1, got {k}")
    lm = _build_lm(settings)

    from pipeline.normalize import translate_model_error
    from pipeline.programs import FEW_SHOT_FILE, ProgramFileError, compile_few_shot, save_program
    from pipeline.service import is_model_error

    output = args.output or settings.dspy_program_dir / FEW_SHOT_FILE
    print(f"compiling a few-shot program (k={k}) against {settings.llm_model}; this calls the model…", file=sys.stderr)
    try:
        program = compile_few_shot(lm, k=k)
    except Exception as error:
        if not is_model_error(error):
            raise
        raise translate_model_error(error) from error
    try:
        version = save_program(program, output)
    except OSError as error:
        raise ProgramFileError(f"cannot save the program to {output}: {error.strerror or error}") from error
    print(f"saved {output} (program version {version})")
    return 0
