"""Input validation for an improvement, run before any model call so an invalid idea costs nothing.

Standard library only: importing this module does not import DSPy or litellm.
"""

from __future__ import annotations

from pipeline.errors import InvalidIdea
from store.record import MAX_CONTEXT_CHARS, MAX_IDEA_CHARS, MIN_IDEA_CHARS


def _check_text(name: str, value: object, limit: int) -> str:
    if not isinstance(value, str):
        raise InvalidIdea(f"{name} must be text (str), got {type(value).__name__}")
    if "\x00" in value:
        raise InvalidIdea(
            f"{name} contains a NUL character (\\x00) at index {value.index(chr(0))}; remove it and try again"
        )
    if len(value) > limit:
        raise InvalidIdea(f"{name} is {len(value):,} characters; the limit is {limit:,}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        # A lone surrogate: typically bytes that were not UTF-8 (a Latin-1 terminal), decoded with
        # surrogateescape. No provider can receive it and SQLite cannot store it.
        raise InvalidIdea(
            f"{name} contains text that is not valid Unicode (U+{ord(value[error.start]):04X} at index "
            f"{error.start}), usually from a terminal or file that is not UTF-8; re-type or re-save it as UTF-8"
        ) from None
    return value


def validate_idea(idea: object, context: object = "") -> tuple[str, str]:
    """Check an idea and its optional context before they reach the model.

    Args:
        idea: the rough idea; needs at least 5 non-blank characters and at most 20,000 characters.
        context: optional extra context (audience, constraints); at most 20,000 characters. None means "".

    Returns:
        `(idea, context)` with surrounding whitespace removed.

    Raises:
        InvalidIdea: naming the problem — not text, a NUL character, text that is not valid Unicode (a lone
            surrogate), too long, or too short.
    """
    if context is None:
        context = ""
    idea = _check_text("idea", idea, MAX_IDEA_CHARS)
    context = _check_text("context", context, MAX_CONTEXT_CHARS)
    non_blank = len("".join(idea.split()))
    if non_blank < MIN_IDEA_CHARS:
        raise InvalidIdea(
            f"idea needs at least {MIN_IDEA_CHARS} non-blank characters, got {non_blank} ({idea!r}); "
            "describe what you want the prompt to do"
        )
    return idea.strip(), context.strip()
