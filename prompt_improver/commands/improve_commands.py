"""Model commands: `improve` and `compile-fewshot`.

Importing this module imports neither DSPy nor litellm: `prompt-improver --help` and the store's commands
must not pay for them. The handlers import the pipeline when they run, and an invalid idea is refused
before anything heavy is loaded or any request is sent.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from prompt_improver.models import ModelFactory
from prompt_improver.services import build_services
from prompt_improver.settings import Settings, load_settings
from prompt_improver.terminal import json_text, printable

logger = logging.getLogger(__name__)

UNSAVED_EXIT = 3  # the improvement was made but exists only in this command's output


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `improve` and `compile-fewshot` to the `prompt-improver` parser."""
    improve = subparsers.add_parser(
        "improve",
        help="turn a rough idea into a structured prompt and record it",
        description="Turn a rough idea into a structured prompt with the configured model (LLM_MODEL) and "
        "record it. If the database cannot take the record it is kept in the outbox (exit status 0); if the outbox "
        "cannot take it either, the exit status is 3 and the message says where the full text is.",
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
    compile_.add_argument(
        "--force", action="store_true", help="overwrite an existing file at --output that is not a saved program"
    )
    compile_.set_defaults(handler=run_compile_fewshot)


def _attempt_reporter(verbose: bool):
    """With -v, a line on stderr before each model attempt (the wait can be long on a small local model)."""
    def report(attempt: int, attempts: int) -> None:
        if verbose:
            print(f"model call: attempt {attempt} of {attempts}…", file=sys.stderr, flush=True)

    return report


def run_improve(args: argparse.Namespace) -> int:
    """`prompt-improver improve "IDEA"`: print the improvement; exit 0 even when it was kept in the outbox,
    3 when it was neither stored nor kept."""
    from pipeline.validation import validate_idea

    idea, context = validate_idea(args.idea, args.context)  # before any model, program or database work
    settings = load_settings(sqlite_db_path=args.db, database_url=None) if args.db is not None else load_settings()
    backend = args.backend or ("few-shot" if settings.dspy_fewshot_enabled else "zero-shot")
    models = ModelFactory(settings)
    lm = models.client()  # a model that cannot be used stops here, before the database is touched

    from pipeline.programs import load_program
    from pipeline.service import improve, replay_outbox_at_start

    program, program_version = load_program(backend, settings.dspy_program_dir, k=settings.dspy_fewshot_k)
    # With SQLITE_ENABLED=false nothing is opened, written or queued (no repository, no outbox).
    services = build_services(settings, models=models)
    try:
        replayed_at_start = replay_outbox_at_start(services.repository, services.outbox)
        outcome = improve(
            idea, context, backend, program=program, program_version=program_version, lm=lm,
            repo=services.repository, model_version=settings.llm_model or "", outbox=services.outbox,
            breaker=services.breaker, repo_error=services.unavailable,
            on_attempt=_attempt_reporter(getattr(args, "verbose", False)),
        )
    finally:
        services.close()

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
        # Neither stored nor kept: stdout may be a pipe that is gone or a terminal about to be closed, so
        # the user must hear it from the exit status, with every place the full text still exists.
        copy = _write_unsaved_copy(outcome.record)
        where = "printed above on stdout" + (f" and written to {copy}" if copy else " (nowhere else: copy it now)")
        print(f"error: the improvement was neither saved nor kept: {outcome.persistence_error}; its full text "
              f"is {where}", file=sys.stderr)
        return UNSAVED_EXIT
    return 0


def _write_unsaved_copy(record) -> Path | None:
    """Write the record as JSON to the system's temporary directory (often another filesystem than a full
    data disk); the path, or None when that fails too."""
    import os
    import tempfile

    path = Path(tempfile.gettempdir()) / f"prompt-improver-unsaved-{record.uid}.json"
    try:
        # O_EXCL: never follow a link someone planted in a shared /tmp; 0600: the idea may be private.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as error:
        logger.debug("cannot create %s for the unsaved record: %s", path, error)
        return None
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(record.to_dict(), ensure_ascii=False, indent=2) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as error:  # a partial copy would pass for the whole text
        logger.debug("cannot write the unsaved record to %s: %s", path, error)
        path.unlink(missing_ok=True)
        return None
    return path


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
    from prompt_improver.errors import UsageError

    settings = load_settings()
    k = args.k if args.k is not None else settings.dspy_fewshot_k
    if k < 1:
        raise UsageError(f"--k must be at least 1, got {k}")
    from pipeline.programs import FEW_SHOT_FILE, ProgramFileError, compile_few_shot, save_program

    output = args.output or settings.dspy_program_dir / FEW_SHOT_FILE
    _check_program_output(output, settings, force=args.force)  # before the model is called, not after
    lm = ModelFactory(settings).lm()

    from pipeline.normalize import translate_model_error
    from pipeline.service import is_model_error

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


def _check_program_output(output: Path, settings: Settings, *, force: bool) -> None:
    """Refuse an --output that is the history (always) or an existing file that is not a program (unless --force)."""
    from pipeline.programs import is_program_file
    from prompt_improver.errors import UsageError
    from prompt_improver.output_guard import refuse_history_target

    refuse_history_target("--output", output, settings.sqlite_db_path, settings.outbox_path, "the program")
    if output.is_dir():
        raise UsageError(f"--output {output} is a directory; name a file such as {output / 'few-shot.json'}")
    if (output.exists() or output.is_symlink()) and not force and not is_program_file(output):
        raise UsageError(
            f"--output {output} exists and is not a saved program; saving would replace it: name another file, "
            "or pass --force to overwrite it"
        )
