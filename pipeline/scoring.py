"""Scoring improvements read as JSON Lines (what `prompt-improver score` runs): parse, validate, evaluate.

One line is one improvement with the record's fields: `original_idea` and `improved_prompt` (required),
`context`, `role`, `directive`, `framework` (text, default ""), `guardrails` (a list of text, default []);
`reasoning`, `confidence` and any other key are accepted and ignored, so a line of `history` output or
a fixture with notes scores as it is. A bad line yields an error naming the line and the problem; it never
stops the lines after it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from pipeline.errors import PipelineError
from pipeline.normalize import ImprovedPrompt
from pipeline.quality import QualityMetric, QualityResult

REQUIRED = ("original_idea", "improved_prompt")
TEXT_FIELDS = ("context", "role", "directive", "framework")


class InvalidScoreInput(PipelineError):
    """A line given to `score` is not an improvement (not JSON, not an object, a missing or mistyped field)."""


@dataclass(frozen=True, slots=True)
class ScoredLine:
    """The outcome for one input line: a result, or the error that line got (exactly one is set)."""

    line: int
    result: QualityResult | None = None
    error: str | None = None

    def __post_init__(self) -> None:
        if (self.result is None) == (self.error is None):
            raise ValueError("a scored line has either a result or an error")

    def to_dict(self) -> dict:
        """JSON-ready: the line number with the result's fields, or with `error`."""
        return {"line": self.line, **(self.result.to_dict() if self.result else {"error": self.error})}


def parse_improvement(text: str) -> tuple[str, str, ImprovedPrompt]:
    """(idea, context, improvement) from one JSON line.

    Raises:
        InvalidScoreInput: the text is not a JSON object with the required fields of the right types.
    """
    try:
        data = json.loads(text)
    except ValueError as error:
        raise InvalidScoreInput(f"not JSON ({error}); write one JSON object per line") from None
    if not isinstance(data, dict):
        raise InvalidScoreInput(f"expected a JSON object with original_idea and improved_prompt, got {type(data).__name__}")
    missing = [name for name in REQUIRED if not isinstance(data.get(name), str) or not data[name].strip()]
    if missing:
        raise InvalidScoreInput(f"{' and '.join(missing)} must be non-empty text")
    for name in TEXT_FIELDS:
        if not isinstance(data.get(name, ""), str):
            raise InvalidScoreInput(f"{name} must be text, got {type(data[name]).__name__}")
    guardrails = data.get("guardrails", [])
    if not isinstance(guardrails, list) or not all(isinstance(item, str) for item in guardrails):
        raise InvalidScoreInput("guardrails must be a list of text, e.g. [\"Keep it under 200 words\"]")
    improved = ImprovedPrompt(
        improved_prompt=data["improved_prompt"], role=data.get("role", ""), directive=data.get("directive", ""),
        framework=data.get("framework", ""), guardrails=tuple(guardrails),
    )
    return data["original_idea"], data.get("context", ""), improved


def score_lines(lines: Iterable[str | bytes], metric: QualityMetric) -> Iterator[ScoredLine]:
    """Score each non-blank line in order (numbered from 1, blank lines counted but skipped); a line
    given as bytes is one the caller could not decode."""
    for number, text in enumerate(lines, start=1):
        if isinstance(text, bytes):  # the caller could not decode it
            yield ScoredLine(number, error="not UTF-8 text; save the file as UTF-8")
            continue
        if not text.strip():
            continue
        try:
            idea, context, improved = parse_improvement(text)
        except InvalidScoreInput as error:
            yield ScoredLine(number, error=str(error))
            continue
        yield ScoredLine(number, result=metric.evaluate(idea, improved, context))
