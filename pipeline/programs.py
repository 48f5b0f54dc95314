"""Building, versioning, saving and loading the improver programs.

Zero-shot is the uncompiled `PromptImprover`; few-shot is the same module compiled with `LabeledFewShot`
over the packaged demonstrations (no model call), or a program `compile-fewshot` bootstrapped and saved.
A program's version is a short hash of its saved state, so every record names exactly what produced it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.errors import PipelineError
from store.record import BackendType

if TYPE_CHECKING:
    import dspy

    from pipeline.modules import PromptImprover

logger = logging.getLogger(__name__)

FEW_SHOT_FILE = "few-shot.json"
VERSION_CHARS = 12
MAX_PROGRAM_BYTES = 64 * 1024 * 1024  # far above any saved program (24 demonstrations are ~100 KB)


class ProgramFileError(PipelineError, ValueError):
    """A saved program file cannot be loaded (unreadable, not JSON, or not a PromptImprover's state)."""


def build_zero_shot() -> PromptImprover:
    """The uncompiled improver: instruction only, no demonstrations."""
    from pipeline.modules import PromptImprover

    return PromptImprover()


def build_few_shot(k: int = 4) -> PromptImprover:
    """The improver compiled with `LabeledFewShot(k)` over the packaged demonstrations.

    Deterministic: the first `k` demonstrations in the file's curated order (no sampling, no model call),
    so the same package always yields the same version.

    Raises:
        ValueError: `k` is not a positive integer.
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    from dspy.teleprompt import LabeledFewShot

    from pipeline.demonstrations import load_demonstrations

    return LabeledFewShot(k=k).compile(build_zero_shot(), trainset=load_demonstrations(), sample=False)


def _canonical_state(program: dspy.Module) -> str:
    return json.dumps(program.dump_state(), sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def program_version(program: dspy.Module) -> str:
    """The first 12 hex digits of the sha256 of the program's canonical JSON state (stable across processes)."""
    return hashlib.sha256(_canonical_state(program).encode("utf-8")).hexdigest()[:VERSION_CHARS]


def save_program(program: dspy.Module, path: Path | str) -> str:
    """Write the program's state as JSON (atomically: a temporary file, then a rename).

    The file is what `dspy.Module.load` reads, plus `metadata.program_version`.

    Returns:
        The program's version.
    """
    from dspy.utils.saving import get_dependency_versions

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    version = program_version(program)
    state = program.dump_state()
    state["metadata"] = {"dependency_versions": get_dependency_versions(), "program_version": version}
    text = json.dumps(state, ensure_ascii=False, indent=2, default=str)
    descriptor, temporary = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return version


def is_program_file(path: Path | str) -> bool:
    """Whether `path` holds a program `save_program` wrote (JSON with `metadata.program_version`), so
    saving over it replaces one program with another rather than destroying some other file."""
    path = Path(path)
    try:
        if not path.is_file() or path.stat().st_size > MAX_PROGRAM_BYTES:
            return False
        state = json.loads(path.read_bytes())
    except (OSError, ValueError):  # unreadable, not UTF-8, not JSON
        return False
    metadata = state.get("metadata") if isinstance(state, dict) else None
    return isinstance(metadata, dict) and isinstance(metadata.get("program_version"), str)


def read_program(path: Path | str) -> PromptImprover:
    """A `PromptImprover` with the state saved in `path`.

    Raises:
        ProgramFileError: naming the file, what is wrong with it, and the fix.
    """
    path = Path(path)
    fix = f"delete {path} to use the built-in few-shot program, or run `prompt-improver compile-fewshot` again"
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise ProgramFileError(f"cannot read the saved program {path}: {error}; {fix}") from error
    except ValueError as error:
        raise ProgramFileError(f"the saved program {path} is not valid JSON ({error}); {fix}") from error
    program = build_zero_shot()
    expected = {name for name, _ in program.named_parameters()}
    if not isinstance(state, dict) or not expected <= set(state):
        found = sorted(state) if isinstance(state, dict) else type(state).__name__
        raise ProgramFileError(
            f"the saved program {path} is not a PromptImprover's state (expected keys {sorted(expected)}, "
            f"found {found}); {fix}"
        )
    state.pop("metadata", None)
    try:
        program.load_state(state)
    except Exception as error:  # any shape problem inside the state: report the file, not DSPy internals
        problem = f"{type(error).__name__}: {error}"
        raise ProgramFileError(f"the saved program {path} cannot be loaded ({problem}); {fix}") from error
    for index, demo in enumerate(program.improve.predict.demos):
        # A demonstration without the inputs would only fail later, inside a user's improvement.
        if not hasattr(demo, "get") or not demo.get("original_idea") or not demo.get("improved_prompt"):
            raise ProgramFileError(
                f"the saved program {path} has a demonstration (#{index}) without original_idea or "
                f"improved_prompt; {fix}"
            )
    return program


def load_program(
    backend: BackendType | str, program_dir: Path | str | None = None, k: int = 4
) -> tuple[PromptImprover, str]:
    """The program for a backend and its version.

    Few-shot uses `program_dir/few-shot.json` when it exists (a program saved by `compile-fewshot`),
    otherwise `build_few_shot(k)`.

    Raises:
        ProgramFileError: the saved few-shot file exists but cannot be loaded.
        ValueError: an unknown backend name or a bad `k`.
    """
    backend = BackendType.parse(backend)
    if backend is BackendType.ZERO_SHOT:
        program = build_zero_shot()
    else:
        saved = Path(program_dir) / FEW_SHOT_FILE if program_dir is not None else None
        if saved is not None and saved.exists():
            program = read_program(saved)
            logger.info("using the saved few-shot program %s", saved)
        else:
            program = build_few_shot(k)
    return program, program_version(program)


def compile_few_shot(
    lm: dspy.BaseLM,
    *,
    k: int = 4,
    max_bootstrapped_demos: int = 4,
    trainset: list[dspy.Example] | None = None,
) -> PromptImprover:
    """Bootstrap a few-shot program against `lm` with the quality metric (this calls the model).

    `BootstrapFewShot` runs the program over the demonstrations and keeps up to `max_bootstrapped_demos`
    (at most `k`) of the model's own answers that pass the metric's threshold, filling up to `k` with
    labeled ones.
    Runs inside `dspy.context(lm=lm)`, never `dspy.configure`.

    Raises:
        ValueError: `k` is not a positive integer or `max_bootstrapped_demos` is not a non-negative integer.
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    bootstrapped = max_bootstrapped_demos
    if isinstance(bootstrapped, bool) or not isinstance(bootstrapped, int) or bootstrapped < 0:
        raise ValueError(f"max_bootstrapped_demos must be a non-negative integer, got {max_bootstrapped_demos!r}")
    max_bootstrapped_demos = min(max_bootstrapped_demos, k)  # the program holds k demonstrations in all
    import dspy
    from dspy.teleprompt import BootstrapFewShot

    from pipeline.demonstrations import load_demonstrations
    from pipeline.metrics import prompt_quality_metric

    teleprompter = BootstrapFewShot(
        metric=prompt_quality_metric,
        max_bootstrapped_demos=max_bootstrapped_demos,
        max_labeled_demos=k,
    )
    with dspy.context(lm=lm):
        return teleprompter.compile(build_zero_shot(), trainset=list(trainset or load_demonstrations()))
